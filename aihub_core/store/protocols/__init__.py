"""The storage contract, one protocol per concept; `base.Store` combines them."""
