"""The PostgreSQL store's methods, one mixin per protocol of `store/protocols/`, each over `_connection`."""
