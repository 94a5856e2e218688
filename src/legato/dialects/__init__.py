"""Pure renderers: domain objects -> provider JSON shapes (Exotel is Legato's own)."""
