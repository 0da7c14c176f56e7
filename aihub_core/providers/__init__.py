"""Provider adapters: one module per upstream wire protocol, behind `base.Provider`."""
