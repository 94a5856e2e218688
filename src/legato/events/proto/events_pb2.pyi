import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LegEvent(_message.Message):
    __slots__ = ("event_sid", "event_type", "event_name", "event_timestamp", "sequence", "data", "error", "webhook_id", "webhook_timestamp", "webhook_signature", "signed_payload")
    EVENT_SID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    EVENT_NAME_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    SIGNED_PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    event_sid: str
    event_type: str
    event_name: str
    event_timestamp: _timestamp_pb2.Timestamp
    sequence: int
    data: _struct_pb2.Struct
    error: _struct_pb2.Struct
    webhook_id: str
    webhook_timestamp: str
    webhook_signature: str
    signed_payload: str
    def __init__(self, event_sid: _Optional[str] = ..., event_type: _Optional[str] = ..., event_name: _Optional[str] = ..., event_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sequence: _Optional[int] = ..., data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., error: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., webhook_id: _Optional[str] = ..., webhook_timestamp: _Optional[str] = ..., webhook_signature: _Optional[str] = ..., signed_payload: _Optional[str] = ...) -> None: ...

class DeliverAck(_message.Message):
    __slots__ = ("event_sid",)
    EVENT_SID_FIELD_NUMBER: _ClassVar[int]
    event_sid: str
    def __init__(self, event_sid: _Optional[str] = ...) -> None: ...
