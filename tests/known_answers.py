"""Signatures computed by the platforms themselves, for known-answer tests (kept once, imported).

Meta's docs give no numeric example of ``X-Hub-Signature-256``. This is a real delivery Meta signed
(WhatsApp Cloud API, the app secret since reset), the known answer in pywa's test suite
(david-lev/pywa, tests/test_server.py::test_webhook_updates_validator). Every Meta webhook signs
this way: Pages, Instagram and Threads alike.
"""

META_APP_SECRET = "1222e786b144d0e85b9f365372d93676"
META_SIGNED_BODY = (
    b'{"object":"whatsapp_business_account","entry":[{"id":"264937493375603","changes":[{"value":'
    b'{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550953877","phone_number_id":'
    b'"277321005464405"},"contacts":[{"profile":{"name":"PyWa Tests"},"wa_id":"972544401243"}],"messages":'
    b'[{"from":"972544401243","id":"wamid.HBgMOTcyNTQ0NDAxMjQzFQIAEhggM0RFQTNCMEEwRTY3QzUwODYzMDc4NjQ4QzM4'
    b'ODAxM0YA","timestamp":"1730231903","text":{"body":"Hey there! I am using PyWa."},"type":"text"}]},'
    b'"field":"messages"}]}]}'
)
META_SIGNATURE = "sha256=54edfa1d7259e0eb13c677cc7d73d1b5c86cfa12433d19156e058ab9251bc441"
