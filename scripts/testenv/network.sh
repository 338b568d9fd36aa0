# shellcheck shell=bash
# Test hosts: one network namespace per node and per EC2 stand-in host,
# joined to the host by a veth pair on the bridge $BRIDGE. No default route in
# the namespaces: they reach only the bridge's /24 (host address, registries,
# each other).

link_exists() { ip link show "$1" >/dev/null 2>&1; }
netns_exists() { [[ -e /var/run/netns/$1 ]]; }

# Host side of a test host's veth pair (interface names are limited to 15 chars).
veth_name() { printf 'bxv-%s\n' "$1"; }

setup_bridge() {
  if ! link_exists "$BRIDGE"; then
    info "creating bridge $BRIDGE"
    ip link add "$BRIDGE" type bridge
  fi
  if ! ip -4 addr show dev "$BRIDGE" | grep -q "inet $HOST_ADDR/"; then
    ip addr add "$HOST_ADDR/$PREFIX_LEN" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
  info "bridge $BRIDGE: $HOST_ADDR/$PREFIX_LEN"
}

# netns_hosts: one "NAME NETNS ADDRESS" line per test host (nodes, then the
# EC2 stand-ins of ec2hosts.sh).
netns_hosts() {
  local h
  for h in "${NODE_NAMES[@]}"; do printf '%s %s %s\n' "$h" "${NODE_NETNS[$h]}" "${NODE_ADDR[$h]}"; done
  for h in "${EC2_HOSTS[@]}"; do printf '%s %s %s\n' "$h" "${EC2_NETNS[$h]}" "${EC2_ADDR[$h]}"; done
}

# setup_host_netns NAME NETNS ADDRESS
setup_host_netns() {
  local name=$1 ns=$2 addr=$3 veth
  veth=$(veth_name "$name")
  netns_exists "$ns" || ip netns add "$ns"
  if ! link_exists "$veth"; then
    ip link add "$veth" type veth peer name eth0 netns "$ns"
  fi
  ip link set "$veth" master "$BRIDGE" up
  ip -n "$ns" link set lo up
  if ! ip -n "$ns" -4 addr show dev eth0 | grep -q "inet $addr/"; then
    ip -n "$ns" addr add "$addr/$PREFIX_LEN" dev eth0
  fi
  ip -n "$ns" link set eth0 up
  info "netns $ns: $addr via $veth"
}

verify_network() {
  local name ns addr
  while read -r name ns addr; do
    wait_for 10 ping -c1 -W1 "$addr" || die "host cannot reach $addr (netns $ns)"
    nsenter --net="/var/run/netns/$ns" ping -c1 -W1 "$HOST_ADDR" >/dev/null ||
      die "netns $ns cannot reach $HOST_ADDR"
  done < <(netns_hosts)
  info "host <-> namespaces OK"
}

setup_network() {
  local name ns addr
  setup_bridge
  while read -r name ns addr; do setup_host_netns "$name" "$ns" "$addr"; done < <(netns_hosts)
  verify_network
}

# The host end of a veth goes away by itself (asynchronously) once the
# namespace holding its peer is gone; delete it if it does not.
remove_veth() {
  local veth=$1 i
  for ((i = 0; i < 20; i++)); do
    link_exists "$veth" || return 0
    sleep 0.1
  done
  ip link del "$veth" 2>/dev/null || true
  if link_exists "$veth"; then die "could not delete $veth"; fi
}

# Remove the namespaces (after their daemons were stopped), veths and bridge.
teardown_network() {
  local name ns pids
  while read -r name ns _; do
    if netns_exists "$ns"; then
      pids=$(ip netns pids "$ns" || true)
      if [[ -n $pids ]]; then
        # Anything still inside a test-host namespace was started for it.
        warn "processes left in $ns: $(echo "$pids" | paste -sd' '); killing them"
        echo "$pids" | xargs -r kill -KILL 2>/dev/null || true
      fi
      info "deleting netns $ns"
      ip netns del "$ns"
    fi
    remove_veth "$(veth_name "$name")"
  done < <(netns_hosts)
  if link_exists "$BRIDGE"; then
    info "deleting bridge $BRIDGE"
    ip link del "$BRIDGE"
  fi
}
