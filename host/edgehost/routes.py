"""The host's own routes: everything under HOST_PREFIX belongs to the host, whatever the Host
header says, so no function can shadow it. Defined once; the server, the admin API and the
CLI all take them from here."""

HOST_PREFIX = "/__edgehost"
HEALTH_PATH = f"{HOST_PREFIX}/health"
METRICS_PATH = f"{HOST_PREFIX}/metrics"
ADMIN_PREFIX = f"{HOST_PREFIX}/v1"
