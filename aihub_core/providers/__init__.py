"""Provider adapters: one module per upstream wire protocol, behind `base.Provider`, and the
registry (`registry.KINDS`) that names each kind once for the rest of the gateway."""
