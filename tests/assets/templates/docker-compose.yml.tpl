# partner-edge stack, rendered per partner by the provisioner (Jinja)
services:
  sfu:
    image: ghcr.io/example/sfu:{{ sfu_version }}
    environment:
      SFU_METRICS_BIND: "{{AWG_HOST_IP}}"
      SFU_LOG_LEVEL: info
    ports:
      - "{{AWG_HOST_IP}}:9100:9100"
{% if relay_enabled %}
  relay:
    image: ghcr.io/example/relay:1.4
    environment:
      RELAY_BIND: 0.0.0.0
      AWG_S4: "18"
{% endif %}
