"""The billing worker: charges, orders, invoices and payments ("Cuenta y Facturación")."""

SERVICE = "billing"
