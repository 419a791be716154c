"""What an executive reads on an account's commercial timeline."""

from tienda.contracts.messages.activation import ActivationCompleted, ActivationRejected


def activation_summary(event: ActivationCompleted) -> str:
    items = ", ".join(f"{line.quantity} × {line.description}" for line in event.lines)
    return f"{event.requested_by.name} activated {items} ({event.payment_mode.value.replace('_', ' ')})"


def rejection_summary(event: ActivationRejected) -> str:
    reasons = "; ".join(reason.message for reason in event.reasons)
    return f"{event.requested_by.name} could not activate a cart: {reasons}"
