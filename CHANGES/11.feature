Several hosts, one Pulp: a download one host leads is followed by the other hosts' content apps
over HTTP (a PostgreSQL advisory lock names the leader; `HF_PEER_ADDRESS` is each content app's
own address), so clients split across hosts cause one upstream fetch. Files in S3 (or any
object storage) are streamed with the Hub's headers and `Range`, never redirected to a signed
storage URL. Pull-through adds dispatched while no worker runs wake the workers until they take
them. New guide: docs/admin/guides/scaling.md.
