"""Pure domain model: legs, their state machine, causes, numbers, ids and events. No I/O."""
