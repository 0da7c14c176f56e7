"""Usage alerts: thresholds a user sets on their spend, requests or tokens (`rules`), checked from
the ledger after each settlement (`checker`), recorded once per alert and period in the store's
outbox and delivered to the operator's signed webhook at least once (`webhook`)."""
