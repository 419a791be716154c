"""What a consumer does about the order of the messages it reads, per service and topic: stated
in the AsyncAPI documents as the description of the service's receive operation, and in prose in
README, "Ordering". Each service's owners write its entries.

Kafka orders the records of one partition of one topic; every message is keyed by its account
id, so one account's messages on one topic keep the order their producer gave them. Two topics
are not ordered against each other.
"""

ORDERING: dict[tuple[str, str], str] = {
    ("store", "tienda.activations.requested"): (
        "Ordered per account with the other carts and reductions (same topic, key = account id), "
        "not with tienda.accounts.plans. A cart or reduction of an account whose PlanContracted the "
        "store has not received waits for it (kept in the store's database; listed in the plan view as "
        "waiting_for_plan) and is handled in arrival order when the plan arrives, taking effect on the "
        "day of the cart or of the plan, whichever is later; it is refused as unknown_account only after "
        "TIENDA_STORE_UNKNOWN_ACCOUNT_WAIT_SECONDS (24 h). A cart is judged by the account's status when "
        "it occurred, as far as the store has heard, and against the plan the store holds when it "
        "handles it: a suspension, reinstatement or plan change that occurred before the cart but reaches "
        "the store after it is not taken into account."
    ),
    ("store", "tienda.accounts.plans"): (
        "Ordered per account (same topic, key = account id): a suspension or reinstatement follows the "
        "plan it concerns, and one for an account with no plan is dead-lettered. Not ordered with "
        "tienda.activations.requested: the account's first PlanContracted handles the carts and "
        "reductions that waited for it; a PlanContracted applies the reductions requested before it "
        "occurred, also those that reach the store after it (applied on arrival); a status change "
        "applies to carts that occurred after it, in whichever order they arrive."
    ),
}
