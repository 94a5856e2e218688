"""Telephony backends behind one interface (see base.py): the sandbox and real SIP."""
