"""The store worker: catalog, entitlements and all-or-nothing activation of carts."""

SERVICE = "store"
