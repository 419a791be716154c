"""The example set the support-text judge (tienda.advisor.domain.triage) is tested against.

Real-looking messages of Chilean customers, as typed in "Asesor Comercial". COMMERCIAL
must stay with the executive, including the ones that say "error", "no funciona" or
"no puedo" in a commercial sense; SUPPORT plainly describes a fault and is redirected.
"""

COMMERCIAL = (
    "Hola, queremos agregar el módulo de Remuneraciones para 35 trabajadores. ¿Nos pueden cotizar?",
    "Necesitamos una capacitación de conciliación bancaria para dos personas nuevas del área contable.",
    "¿Podrían hacernos una demostración del módulo de Inventario? Tenemos bodegas en Quilicura y Temuco.",
    "Cometemos muchos errores al calcular las horas extra; queremos saber si el módulo de Remuneraciones lo hace solo.",
    "Buscamos reducir los errores de digitación en las facturas de compra, ¿tienen recepción automática de DTE?",
    "Quiero una capacitación para evitar errores al emitir notas de crédito.",
    "Nuestro sistema actual no funciona para el volumen de ventas que tenemos; queremos migrar la facturación.",
    "Me interesa el módulo de Business Intelligence, ¿qué necesito tener contratado?",
    "¿Se puede integrar la tienda online (Shopify) con el ERP? Nos interesa cotizar la integración.",
    "Queremos sumar 5 usuarios y una razón social más para la nueva sucursal de Antofagasta.",
    "Agradecería que el ejecutivo me llame para revisar el plan; creo que pagamos por funciones que no usamos.",
    "¿Tienen algún reporte de margen por producto? Si no existe, quisiéramos pedirlo como nueva funcionalidad.",
    "Necesitamos capacitar al equipo en el libro de compras porque el contador detectó errores en la declaración"
    " del IVA.",
    "Queremos una demo del control de cuadratura de caja; hoy los errores de cuadre los vemos a fin de mes.",
    "Nos gustaría contratar la emisión de boletas electrónicas para el local de Viña del Mar.",
    "Hola, soy la nueva encargada de administración. ¿Me pueden agendar una capacitación general del sistema?",
    "Queremos cotizar el pack de 500 DTE mensuales; este mes emitimos más facturas de lo habitual.",
    "¿El sistema permite manejar centros de costo por proyecto? Si es así, nos interesa una demostración.",
    "El módulo de Inventario funciona muy bien; ahora queremos conocer el de Business Intelligence.",
    "Solicito precios para agregar firma electrónica avanzada a tres usuarios.",
    "No puedo decidir entre el plan Pyme y el plan Empresa, ¿me pueden asesorar?",
    "Queremos una capacitación sobre cómo corregir errores en documentos ya emitidos (notas de crédito y débito).",
    "¿Cuánto cuesta una capacitación presencial en Concepción para 8 personas?",
    "No podemos emitir boletas porque no tenemos el módulo; ¿cuánto cuesta agregarlo?",
    "El sistema no me deja emitir más facturas este mes, ¿cómo amplío el plan de DTE?",
    "Las planillas Excel ya no nos funcionan para controlar el stock; queremos cotizar el módulo de Inventario.",
    "Necesitamos una demo de la app móvil para los técnicos; queremos ver si funciona sin conexión.",
    "Nos equivocamos mucho al registrar anticipos de clientes; ¿hay algún módulo o capacitación que nos ayude?",
)

SUPPORT = (
    "No puedo ingresar al sistema desde esta mañana, me dice usuario o contraseña incorrectos.",
    "Me aparece un error al emitir la factura electrónica: 'CAF vencido'.",
    "El libro de remuneraciones no funciona, se queda cargando.",
    "Error al emitir guía de despacho, el SII la rechaza.",
    "No me deja entrar con mi usuario, ¿lo pueden desbloquear?",
    "La pantalla de conciliación bancaria se queda en blanco cuando cargo la cartola.",
    "Desde la actualización el reporte de ventas no carga.",
    "Olvidé mi contraseña y no llega el correo para restablecerla.",
    "Cuando intento imprimir la liquidación de sueldo sale un error 500.",
    "El sistema está muy lento y se cae cada vez que emito boletas.",
    "No puedo emitir notas de crédito, el botón aparece desactivado.",
    "Las facturas no se están enviando al SII, quedan en estado pendiente.",
    "Dejó de funcionar la integración con el banco, no se importan las cartolas.",
    "Me sale 'sesión expirada' y no puedo iniciar sesión.",
    "Tengo un problema con el cálculo del finiquito, da un monto incorrecto.",
    "Hola, el módulo de inventario no funciona desde ayer.",
    "Error al ingresar: 'Usuario bloqueado'.",
    "No puedo descargar el XML de las facturas recibidas.",
    "El sistema no me deja guardar la factura, aparece un mensaje de error.",
    "No funciona el botón de enviar al SII.",
    "Se cayó el sistema y no podemos facturar.",
    "No logro ingresar a mi cuenta, dice contraseña incorrecta.",
    "Al generar el archivo de Previred el sistema arroja una excepción.",
    "Las boletas quedan rechazadas por el SII con error de firma.",
    "Quiero cotizar el módulo BI, pero primero: no puedo entrar con mi usuario desde el lunes.",
)
