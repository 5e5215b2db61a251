#!/usr/bin/env bash
set -euo pipefail
KEY_PATH=/etc/amnezia/amneziawg/server.key
cat > /etc/amnezia/amneziawg/awg0.conf <<EOF
[Interface]
PrivateKey = $(cat "$KEY_PATH")
Address = ${AWG_ADDRESS}
ListenPort = 51820
Jc = 4
S4 = 17
EOF
systemctl enable --now awg-quick@awg0
