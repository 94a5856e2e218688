"""The real SIP network: legs as SIP calls through sippy (signalling), adapted to asyncio at one boundary."""

from legato.network.sip.config import Exophone, SipConfig, Trunk, check_config_file, load_config, parse_config
from legato.network.sip.network import SipNetwork

__all__ = ["Exophone", "SipConfig", "SipNetwork", "Trunk", "check_config_file", "load_config", "parse_config"]
