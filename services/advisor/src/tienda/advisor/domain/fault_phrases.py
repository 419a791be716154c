"""The phrases that plainly describe a fault, found in a request's text and quoted back as written.

These hand-written phrase lists were the advisor's whole triage until the classifier of
``support_model``: they find few support requests (17 % of the corpus' train split)
but what they find is worded as a fault, so they now serve two purposes:

* ``triage.judge`` (the rule the service layer calls until it moves to ``triage.triage``)
  redirects on them;
* ``triage.triage`` quotes the first of them back to the customer when the classifier
  redirects, so the customer reads their own words ("NO PUEDO INGRESAR").

A phrase matches the text in lower case without accents ("NO PUEDO INGRESAR", "no puedo
ingresar" alike). The phrases describe something broken, not something wanted:

* it does not work: "no funciona", "dejó de funcionar", "no anda";
* the customer cannot do something in the system: "no puedo / no logro / no me deja"
  followed within two words by an action of the ERP (ingresar, entrar, emitir,
  imprimir, descargar, enviar, guardar, ...), unless what follows shows the plan lacks
  it ("porque no tenemos el módulo", "¿cómo amplío el plan?"): a reason to buy;
* an error shown to the customer: "me aparece un error", "da error", "error al emitir",
  "error 500", "mensaje de error", "error de firma", "arroja una excepción";
* something hangs or breaks: "se cae", "se queda pegado", "pantalla en blanco",
  "no carga", "no responde", "no se envían", "muy lento";
* access: "olvidé mi contraseña", "usuario bloqueado", "contraseña incorrecta",
  "sesión expirada", "desbloquear";
* a wrong result: "calcula mal", "da un monto incorrecto", "rechazada por el SII",
  "botón desactivado", "está fallando", "bug".

The word "error" alone is **not** a fault: customers ask to *avoid*, *reduce*, *detect*
or *correct* errors, which is a commercial request (a module, a training). A phrase of
the error family is ignored when one of those words (evitar, reducir, disminuir,
prevenir, detectar, corregir, controlar, minimizar, menos, cometemos, ...) comes shortly
before it. Likewise "no funciona" about the customer's *current* tools (planilla,
Excel, sistema actual or anterior, proceso manual) is a reason to buy, not a fault.
"""

import re
import unicodedata
from dataclasses import dataclass

_ACTIONS = (
    "ingresar|entrar|acceder|conectar(me|nos)?|loguear(me|nos)?|iniciar sesion|emitir|facturar|imprimir|descargar"
    "|enviar|timbrar|guardar|abrir|cargar|subir|generar|exportar|importar|validar|firmar|anular|registrar"
    "|cerrar|contabilizar|centralizar"
)


@dataclass(frozen=True)
class _Rule:
    """Phrases of one family, and the words that make a phrase commercial when shortly before or after it."""

    phrases: tuple[re.Pattern[str], ...]
    guard_before: re.Pattern[str] | None = None
    guard_after: re.Pattern[str] | None = None

    def faults(self, plain: str) -> list[re.Match[str]]:
        """Every phrase of the family in the text that no guard word turns commercial."""
        return [
            match
            for phrase in self.phrases
            for match in phrase.finditer(plain)
            if not _guarded(self.guard_before, plain[max(0, match.start() - GUARD_WINDOW) : match.start()])
            and not _guarded(self.guard_after, plain[match.end() : match.end() + 2 * GUARD_WINDOW])
        ]


def _guarded(guard: re.Pattern[str] | None, window: str) -> bool:
    return guard is not None and guard.search(window) is not None


GUARD_WINDOW = 40


def _phrases(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(r"\b" + pattern.replace(" ", r"\s+")) for pattern in patterns)


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(r"\b(" + pattern.replace(" ", r"\s+") + r")\b")


_RULES = (
    # Something broken, hanging, refused or wrong: no commercial reading.
    _Rule(
        _phrases(
            r"dejo de funcionar|dejaron de funcionar|no esta operativo",
            r"se (cae|cayo|callo|cuelga|colgo|congela|congelo|pega|pego|reinicia|cierra sola?)\b",
            r"(se |)(queda|quedo|quedan) (pegad[oa]s?|cargando|en blanco|colgad[oa]s?)",
            r"pantalla en blanco",
            r"no (carga|cargan|abre|abren|responde|responden|inicia|arranca|guarda|guardan)\b",
            r"no se (envia|envian|estan enviando|esta enviando|importa|importan|genera|generan|guarda|guardan"
            r"|descarga|descargan|actualiza|actualizan|sincroniza|sincronizan|timbra|timbran|emite|emiten)\b",
            r"(esta|anda|va|funciona) (muy |super |demasiado )lento",
            r"no (me |nos )?(llega|llegan|llego) (el |los )?(correo|mail|email|codigo)",
            r"(olvide|recuperar|restablecer|resetear|reestablecer|blanquear) (mi |la |su )?(contrasena|clave)",
            r"(usuario|cuenta) (bloquead[oa]|deshabilitad[oa])",
            r"(contrasena|clave) (incorrecta|invalida|no valida)",
            r"sesion expirada|desbloquear",
            r"(calcula|calculo|calculan) mal",
            r"(da|dio|muestra|entrega|arroja) (un |una |el |la )?(monto|valor|resultado|total|saldo|calculo)s?"
            r" (incorrect|erron|malo|mal)\w*",
            r"(rechaza|rechazo|rechazada|rechazadas|rechazado|rechazados) (por )?(el )?sii"
            r"|el sii (la |las |lo |los )?rechaza",
            r"boton (aparece |esta |sale )?(desactivado|deshabilitado|bloqueado|gris)",
            r"(esta|estan) fallando|falla (al|cuando)|presenta (una )?falla|\bbug\b",
        )
    ),
    # The customer cannot do something in the system; not when the reason is what the plan lacks.
    _Rule(
        _phrases(
            r"(no puedo|no podemos|no pude|no pudimos|no logro|no logramos|no consigo|no me deja|no nos deja"
            rf"|no me permite|no nos permite|imposible)( \w+){{0,2}} ({_ACTIONS})\b"
        ),
        guard_after=_words(
            r"no tenemos|no tengo|no contamos|no hemos contratado|no esta contratad\w*|no incluye|nuestro plan|mi plan"
            r"|ampliar|amplio|aumentar|contratar|cotizar|comprar|adquirir|agregar"
        ),
    ),
    # It does not work; not the tools the customer wants to replace.
    _Rule(
        _phrases(r"(ya )?no (me |nos |le )?(funciona|funcionan|esta funcionando|estan funcionando|anda|andan)\b"),
        guard_before=_words(r"planillas?|excel|actual|anterior|manual|manuales|otro sistema|otra herramienta"),
    ),
    # An error shown to the customer; not errors the customer wants to avoid, detect or correct.
    _Rule(
        _phrases(
            r"(me |nos |le )?(aparece|aparecio|sale|salio|da|dio|arroja|arrojo|tira|tiro|muestra|marca|lanza|lanzo)"
            r" (un |el |este |una |otra vez )?(error|excepcion|mensaje de error)",
            r"errore?s? (al|en el|en la|cuando|para|cada vez que) (intento |intentamos |quiero |queremos )?"
            rf"({_ACTIONS})",
            r"error \d{3,4}",
            r"(mensaje|codigo) de error",
            r"error (de|del) (firma|conexion|sistema|servidor|certificado|caf|autenticacion|timbraje|comunicacion)",
        ),
        guard_before=_words(
            r"evitar|reducir|reduzca|disminuir|prevenir|detectar|detecte|corregir|corrija|controlar|minimizar|menos"
            r"|cero|sin|cometemos|cometen|comete|cometer|equivocamos|identificar"
        ),
    ),
)


def normalize(text: str) -> str:
    """Lower case without accents, punctuation as spaces, one character per character
    of ``text`` so that a match's span is also its span in the original."""
    return "".join(_plain(char) for char in text.lower())


def _plain(char: str) -> str:
    base = unicodedata.normalize("NFKD", char)[:1]
    return base if base.isalnum() else " "


def first_fault(text: str) -> str | None:
    """The first phrase of ``text`` that describes a fault, as the customer wrote it, or None."""
    plain = normalize(text)
    faults = [match for rule in _RULES for match in rule.faults(plain)]
    if not faults:
        return None
    first = min(faults, key=lambda match: (match.start(), -match.end()))
    return " ".join(text[first.start() : first.end()].split())
