"""A Django serialisation format for whole-database snapshots (`choeur reset_demo`): Django's JSON, except
that times keep their microseconds. The stock encoder cuts them to milliseconds (ECMA-262), and the audit
chain hashes its entries' timestamps to the microsecond: a snapshot restored in plain JSON reads as tampered."""

import datetime

from django.core.serializers import json as django_json
from django.core.serializers.json import DjangoJSONEncoder

FORMAT = "snapshot_json"


class MicrosecondEncoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


class Serializer(django_json.Serializer):
    def _init_options(self):
        self.options.setdefault("cls", MicrosecondEncoder)
        super()._init_options()


Deserializer = django_json.Deserializer
