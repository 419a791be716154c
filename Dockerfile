# One image per worker: docker build --build-arg SERVICE=store . (SERVICE=ops: the operator CLI)
FROM python:3.11-slim
ARG SERVICE
ENV SERVICE=${SERVICE} PYTHONUNBUFFERED=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY contracts ./contracts
COPY messaging ./messaging
COPY devkit ./devkit
COPY ops ./ops
COPY services ./services
RUN uv sync --frozen --no-dev --package "tienda-${SERVICE}"
RUN useradd --create-home tienda
USER tienda
CMD ["sh", "-c", "exec /app/.venv/bin/python -m tienda.${SERVICE}"]
