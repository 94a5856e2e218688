"""Call flows: TwiML documents fetched from the application's URL, run on Legato legs (docs/call-flows.md)."""
