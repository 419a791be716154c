# The README's commands. `make run` and `make test` work on a fresh machine.
.PHONY: setup run run-cluster test check schemas docs triage-model clean

setup:  ## install uv, Python packages, Kafka jars, PostgreSQL and kcat
	bash scripts/setup

run: setup  ## a real broker and the three workers on the embedded defaults; Ctrl-C stops all
	uv run --frozen python -m tienda.devkit.stack

run-cluster: setup  ## production's shape: a secured 3-broker cluster, PostgreSQL, each worker its own principal
	uv run --frozen python -m tienda.devkit.stack --cluster

test: setup  ## static checks and the whole suite (real Kafka, SQLite and PostgreSQL)
	bash scripts/check

check:  ## the same, without the setup step
	bash scripts/check

schemas:  ## export the JSON Schemas of the contracts (refuses breaking changes)
	uv run --frozen python -m tienda.contracts.schemas

docs: schemas  ## regenerate the AsyncAPI and OpenAPI documents from the code
	uv run --frozen python -m tienda.contracts.asyncapi
	uv run --frozen python -m tienda.devkit.docs

triage-model:  ## retrain the advisor's support classifier on its corpus and rewrite support_model.json
	uv run --frozen python -m tienda.devkit.triage_model

clean:  ## remove local data: databases, logs, broker data (not the cached jars)
	rm -rf .data
