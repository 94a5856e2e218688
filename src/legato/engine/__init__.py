"""Call control: one LegController per live leg, timers, and the switchboard that owns them."""
