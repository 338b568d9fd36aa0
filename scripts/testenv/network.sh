# shellcheck shell=bash
# Test hosts: one network namespace per node, joined to the host by a veth
# pair on the bridge $BRIDGE. No default route in the namespaces: they reach
# only the bridge's /24 (host address, registries, each other).

link_exists() { ip link show "$1" >/dev/null 2>&1; }
netns_exists() { [[ -e /var/run/netns/$1 ]]; }

# Host side of a node's veth pair (interface names are limited to 15 chars).
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

setup_node_netns() {
  local node=$1 ns=${NODE_NETNS[$1]} addr=${NODE_ADDR[$1]} veth
  veth=$(veth_name "$node")
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
  local node
  for node in "${NODE_NAMES[@]}"; do
    wait_for 10 ping -c1 -W1 "${NODE_ADDR[$node]}" ||
      die "host cannot reach ${NODE_ADDR[$node]} (netns ${NODE_NETNS[$node]})"
    nsenter --net="/var/run/netns/${NODE_NETNS[$node]}" ping -c1 -W1 "$HOST_ADDR" >/dev/null ||
      die "netns ${NODE_NETNS[$node]} cannot reach $HOST_ADDR"
  done
  info "host <-> namespaces OK"
}

setup_network() {
  local node
  setup_bridge
  for node in "${NODE_NAMES[@]}"; do setup_node_netns "$node"; done
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
  local node ns pids
  for node in "${NODE_NAMES[@]}"; do
    ns=${NODE_NETNS[$node]}
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
    remove_veth "$(veth_name "$node")"
  done
  if link_exists "$BRIDGE"; then
    info "deleting bridge $BRIDGE"
    ip link del "$BRIDGE"
  fi
}
