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
    ("store", "tienda.indicators.uf"): (
        "One partition, key platform: the UF values in publication order; the first value of a day is "
        "kept (billing raises a different one to operations). Used only to show pesos in a cart quote: "
        "a quote made before the day's value reached the store says so and gives UF amounts only; nothing "
        "the store decides waits for a UF value, so its order with the other topics does not matter."
    ),
    ("billing", "tienda.accounts.plans"): (
        "Ordered per account among plans, suspensions and reinstatements; not with billing's other "
        "topics. A ChargeScheduled or ReductionScheduled of an account whose plan billing has not received "
        "waits (waiting_for_plan) and is placed when the plan arrives, in the period of the plan's own date. "
        "Billing data and cards need no plan. A suspension only shows in billing's view: payments, renewals "
        "and autopay go on as for any account, so its order with them does not matter."
    ),
    ("billing", "tienda.store.events"): (
        "Ordered per account: a charge before the reduction that takes from it. Not ordered with the plans "
        "(a charge before its plan waits for it), the payments (a payment may quote an order billing has not "
        "created yet: it waits for it) or the UF values (a document without its day's UF value is held "
        "until the value arrives)."
    ),
    ("billing", "tienda.payments.received"): (
        "Ordered per account among payments and failed charges. A PaymentReceived quoting an order or "
        "invoice billing has not created yet (ids are derived, so the ERP web and the gateway can know them "
        "first) waits for it and pays it when it appears; it is raised as PaymentUnmatched only after "
        "TIENDA_BILLING_PAYMENT_MATCH_GRACE_MINUTES (24 h). A payment to a document held for its UF value "
        "is settled against its total when the value arrives. A PaymentFailed cannot precede its invoice: "
        "it answers a PaymentRequested billing sends only after the invoice exists."
    ),
    ("billing", "tienda.billing.requests"): (
        "Ordered per account among billing data and card changes; not with plans or invoices. A card "
        "subscribed after an invoice was issued is asked to pay it (attempt 1). An invoice carries the "
        "billing data in force when it was issued (a DTE is not changed once issued)."
    ),
    ("billing", "tienda.indicators.uf"): (
        "One partition, key platform: the UF values in publication order. A document that needs a value "
        "not yet published is held and completes when it arrives; a different value for a known day is "
        "refused and raised to operations."
    ),
    ("advisor", "tienda.advisor.requests"): (
        "Ordered per account across its producers' publications as the broker received them. An "
        "ExecutiveAssigned before or after a request or follow-up ends the same: open items move with the "
        "account to the CRM's executive. A CommercialRequestUpdated cannot precede its request (the "
        "executive's tools learn ids from the advisor's own events, after the request is stored, and publish "
        "on this topic with the same key); if it does, it is dead-lettered and never applied to a later "
        "request of that id."
    ),
    ("advisor", "tienda.store.events"): (
        "Timeline events: the timeline reads by occurred_at, not by arrival, and each business fact is "
        "written once, so any order across the store's, billing's and the gateway's topics gives the same "
        "timeline. Follow-ups they raise move with the account's executive whenever it is assigned."
    ),
    ("advisor", "tienda.billing.events"): (
        "Timeline events, read by occurred_at: any order across topics gives the same timeline; a payment "
        "follow-up (AutopayFailed) moves with the account's executive whenever it is assigned."
    ),
    ("advisor", "tienda.payments.received"): (
        "Timeline events, read by occurred_at: any order across topics gives the same timeline."
    ),
}
