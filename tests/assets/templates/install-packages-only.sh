#!/bin/sh
# installs the packages only: the conf is written by hand later
apt-get install -y amneziawg-tools
cat > /etc/motd <<EOF
This host runs awg0.
EOF
