"""The PostgreSQL backend (`postgresql://` URLs): the store that replicas on many hosts share."""
