#!/usr/bin/env bash
# Starts a single-node Kubernetes cluster for tests: etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# containerd, kubelet and kube-proxy, all inside ONE private network + mount namespace held by a `sleep` process, with
# every piece of state under RUN_DIR. Stop it with scripts/cluster/stop.sh RUN_DIR.
#
#   network: the node's address 10.200.0.1 sits on a veth inside the namespace (no `dummy` driver on these kernels);
#            pods on a cni0 bridge (10.244.0.0/24), Services 10.96.0.0/16 through kube-proxy's iptables rules, all
#            in the namespace: nothing binds on the host except a socat on 127.0.0.1:<port> that forwards to the
#            apiserver (one `nsenter ... socat` per connection).
#   mounts:  a tmpfs over /run (containerd/runc state, pod netns files), RUN_DIR/varlog over /var/log and an overlay
#            over /var/lib whose upper layer is RUN_DIR/varlib-upper (kubelet hard-codes paths under both).
#   cgroups: pods live under the per-run cgroup root /anvil-<id> (kubelet cgroupRoot), so stopping one cluster never
#            touches another cluster's pods.
#   sysctls: kubelet sets vm.overcommit_memory, kernel.panic and kernel.panic_on_oops machine-wide (no switch to skip
#            it); the values from before the first of the running clusters are kept in /run/anvil-clusters and put
#            back by the stop of the last one (the registry is locked with flock on /run).
#
# Kubernetes binaries come from ANVIL_K8S_BIN (default: scripts/build-kube-apiserver.sh's cache); flags that newer
# releases removed are passed only when the binary still lists them. Any component exiting during the start fails
# it loudly with that component's log, and stops what was started.
#
# Usage: start.sh RUN_DIR
#   RUN_DIR/images/*.tar         docker-archive images to import (pause.tar, the sandbox image, is required)
#   ANVIL_CLUSTER_OWNER_PID=PID  stop the cluster when that process exits (a killed test run leaves nothing behind)
#   ANVIL_CLUSTER_PORT=PORT      the host port of the apiserver forwarder (default: a free one)
#   ANVIL_ETCD=PATH              another etcd (default: Debian's etcd-server)
# Writes RUN_DIR/admin.kubeconfig, RUN_DIR/nsrun (runs a command inside the namespace) and RUN_DIR/cluster.env;
# prints RUN_DIR on its last line.
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
D=$(realpath -m "${1:?usage: start.sh RUN_DIR}")
CACHE_ROOT="${ANVIL_CACHE_DIR:-$HOME/.cache/anvil}"
BIN="${ANVIL_K8S_BIN:-$CACHE_ROOT/k8s-1.20.2-p3}"
ETCD="${ANVIL_ETCD:-etcd}"
NODE_NAME=k8s-node
NODE_IP=10.200.0.1
POD_CIDR=10.244.0.0/24
SERVICE_CIDR=10.96.0.0/16
KUBERNETES_SVC_IP=10.96.0.1
APISERVER_PORT=6443 # inside the namespace
ETCD_PORT=2379
ETCD_PEER_PORT=2380
ID=$(basename "$D" | tr -c 'a-zA-Z0-9_\n-' '-')
CGROUP_ROOT="/anvil-$ID"
REGISTRY=/run/anvil-clusters

log() { echo "[cluster/start $(date +%T)] $*" >&2; }
die() { log "$*"; exit 1; }

[[ $(id -u) == 0 ]] || die "run as root"
for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
  [[ -x $BIN/$b ]] || die "missing $BIN/$b: run scripts/build-kube-apiserver.sh (or point ANVIL_K8S_BIN at a release)"
done
for c in "$ETCD" containerd containerd-shim-runc-v2 runc ctr iptables socat openssl nsenter unshare flock ss; do
  command -v "$c" >/dev/null || die "missing $c: run scripts/cluster/install-packages.sh"
done
[[ -x /usr/lib/cni/bridge ]] || die "missing /usr/lib/cni/bridge: run scripts/cluster/install-packages.sh"
[[ -s $D/images/pause.tar ]] || die "missing $D/images/pause.tar: run scripts/cluster/build-images.sh --out $D/images"
[[ ! -e $D/pids/holder ]] || die "$D/pids/holder exists: already started? (stop.sh $D)"
# containerd's socket path must fit a sockaddr_un
((${#D} < 80)) || die "RUN_DIR too long for containerd's socket path: $D"

mkdir -p "$D"/{pki,logs,pids,etcd,kubelet,containerd,cni/net.d,cni/ipam,varlog,varlib-upper,varlib-work,config}
T0=$SECONDS
VERSION=$("$BIN/kube-apiserver" --version | awk '{print $2}')
# has BINARY FLAG: whether this release still accepts the flag (releases remove flags: probe, do not assume 1.20)
has() { "$BIN/$1" --help 2>&1 | grep -E -- "^ +$2[ =]" >/dev/null; }

failed=1
cleanup_on_failure() {
  if ((failed)); then
    log "start failed: stopping what was started"
    bash "$SCRIPTS/stop.sh" "$D" >&2 || true
  fi
}
trap cleanup_on_failure EXIT

# --- the namespace holder ---------------------------------------------------------------------------------------------
setsid sh -c 'echo $$ > "$0"; exec unshare --mount --net --propagation private sleep infinity' "$D/pids/holder" \
  </dev/null >/dev/null 2>&1 &
for _ in $(seq 100); do
  [[ -s $D/pids/holder ]] && H=$(cat "$D/pids/holder") && [[ $(readlink "/proc/$H/ns/net" 2>/dev/null) != "$(readlink /proc/self/ns/net)" ]] && break
  sleep 0.1
done
H=$(cat "$D/pids/holder")
[[ $(readlink "/proc/$H/ns/net") != "$(readlink /proc/self/ns/net)" ]] || die "namespace holder did not unshare"
NS=(nsenter -t "$H" -m -n --)
cat > "$D/nsrun" <<EOF
#!/bin/sh
# Runs a command inside the cluster's network + mount namespace.
exec nsenter -t $H -m -n -- "\$@"
EOF
chmod +x "$D/nsrun"
"${NS[@]}" sh -euc "
  mount --make-rshared /
  mount -t tmpfs -o mode=755 tmpfs /run
  mkdir -p /run/lock
  mount --bind '$D/varlog' /var/log
  mount -t overlay overlay -o 'lowerdir=/var/lib,upperdir=$D/varlib-upper,workdir=$D/varlib-work' /var/lib
  ip link set lo up
  ip link add node0 type veth peer name node0-peer
  ip addr add $NODE_IP/24 dev node0
  ip link set node0-peer up
  ip link set node0 up
  ip route add default dev node0
  sysctl -qw net.ipv4.ip_forward=1
"

if [[ -n ${ANVIL_CLUSTER_OWNER_PID:-} ]]; then
  setsid bash -c 'while kill -0 "$1" 2>/dev/null && [[ -e $2/pids/holder ]]; do sleep 2; done
    [[ -e $2/pids/holder ]] && exec bash "$3" "$2" --purge' watchdog "$ANVIL_CLUSTER_OWNER_PID" "$D" "$SCRIPTS/stop.sh" \
    </dev/null >>"$D/logs/watchdog.log" 2>&1 &
  echo $! > "$D/pids/watchdog"
fi

# start NAME CMD...: runs CMD inside the namespace, detached, logging to logs/NAME.log; its pid in pids/NAME
STARTED=()
start() {
  local name=$1; shift
  setsid nsenter -t "$H" -m -n -- sh -c 'echo $$ > "$0"; exec "$@"' "$D/pids/$name" "$@" \
    >"$D/logs/$name.log" 2>&1 </dev/null &
  for _ in $(seq 50); do [[ -s $D/pids/$name ]] && break; sleep 0.1; done
  STARTED+=("$name")
}
# every component started so far must still run: a crash at start fails loudly, with the component's own words
check_alive() {
  local name
  for name in "${STARTED[@]}"; do
    if ! kill -0 "$(cat "$D/pids/$name")" 2>/dev/null; then
      log "$name exited during the start; last lines of $D/logs/$name.log:"
      tail -25 "$D/logs/$name.log" >&2
      die "$name exited during the start"
    fi
  done
}
wait_for() { # WHAT SECONDS CMD...
  local what=$1 secs=$2 i; shift 2
  for ((i = 0; i < secs; i++)); do
    check_alive
    "$@" >/dev/null 2>&1 && return 0
    sleep 1
  done
  die "timed out after ${secs} s waiting for $what"
}

# --- certificates, tokens, kubeconfigs --------------------------------------------------------------------------------
P=$D/pki
ossl() { openssl "$@" 2>/dev/null; }
ossl req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" -days 30 -subj "/CN=anvil-cluster-$ID"
cat > "$P/apiserver.ext" <<EOF
subjectAltName=IP:127.0.0.1,IP:$NODE_IP,IP:$KUBERNETES_SVC_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage=serverAuth
EOF
ossl req -newkey rsa:2048 -nodes -keyout "$P/apiserver.key" -out "$P/apiserver.csr" -subj /CN=kube-apiserver
ossl x509 -req -in "$P/apiserver.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 30 \
  -extfile "$P/apiserver.ext" -out "$P/apiserver.crt"
echo "extendedKeyUsage=clientAuth" > "$P/client.ext"
# the apiserver's client certificate towards the kubelet (logs, exec, port-forward)
ossl req -newkey rsa:2048 -nodes -keyout "$P/kubelet-client.key" -out "$P/kubelet-client.csr" \
  -subj "/O=system:masters/CN=kube-apiserver-kubelet-client"
ossl x509 -req -in "$P/kubelet-client.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 30 \
  -extfile "$P/client.ext" -out "$P/kubelet-client.crt"
ossl genrsa -out "$P/sa.key" 2048
ossl rsa -in "$P/sa.key" -pubout -out "$P/sa.pub"
token() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
{
  echo "$(token),admin,admin,system:masters"
  echo "$(token),system:node:$NODE_NAME,kubelet,system:nodes"
  echo "$(token),system:kube-controller-manager,kube-controller-manager"
  echo "$(token),system:kube-scheduler,kube-scheduler"
  echo "$(token),system:kube-proxy,kube-proxy"
} > "$P/tokens.csv"
chmod 600 "$P"/*.key "$P/tokens.csv"
kubeconfig() { # FILE USER SERVER
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: anvil-cluster
  cluster: {server: "$3", certificate-authority: "$P/ca.crt"}
users:
- name: "$2"
  user: {token: "$(awk -F, -v u="$2" '$2==u{print $1}' "$P/tokens.csv")"}
contexts:
- name: anvil-cluster
  context: {cluster: anvil-cluster, user: "$2", namespace: default}
current-context: anvil-cluster
EOF
}
INSIDE=https://$NODE_IP:$APISERVER_PORT
kubeconfig "$D/config/admin-inside.kubeconfig" admin "$INSIDE"
kubeconfig "$D/config/kubelet.kubeconfig" "system:node:$NODE_NAME" "$INSIDE"
kubeconfig "$D/config/kube-controller-manager.kubeconfig" system:kube-controller-manager "$INSIDE"
kubeconfig "$D/config/kube-scheduler.kubeconfig" system:kube-scheduler "$INSIDE"
kubeconfig "$D/config/kube-proxy.kubeconfig" system:kube-proxy "$INSIDE"
KUBECTL=("${NS[@]}" "$BIN/kubectl" --kubeconfig "$D/config/admin-inside.kubeconfig" --cache-dir "$D/kube-cache")

# --- etcd, kube-apiserver and the forwarder ---------------------------------------------------------------------------
start etcd "$ETCD" --name default --data-dir "$D/etcd" --unsafe-no-fsync \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "default=http://127.0.0.1:$ETCD_PEER_PORT"
apiserver_flags=(
  --etcd-servers="http://127.0.0.1:$ETCD_PORT"
  # a non-loopback advertise address: the endpoint reconciler then routes the `kubernetes` Service to it
  --bind-address=0.0.0.0 --advertise-address="$NODE_IP" --secure-port="$APISERVER_PORT"
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key"
  --client-ca-file="$P/ca.crt" --token-auth-file="$P/tokens.csv"
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --allow-privileged=true
  --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$P/sa.pub"
  --service-account-signing-key-file="$P/sa.key" --service-cluster-ip-range="$SERVICE_CIDR"
  --kubelet-client-certificate="$P/kubelet-client.crt" --kubelet-client-key="$P/kubelet-client.key"
  --kubelet-preferred-address-types=InternalIP
)
# (no --insecure-port: 0 by default since 1.20, hidden from --help, and removed in 1.24)
start kube-apiserver "$BIN/kube-apiserver" "${apiserver_flags[@]}"

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }
if [[ -n ${ANVIL_CLUSTER_PORT:-} ]]; then
  PORT=$ANVIL_CLUSTER_PORT
  port_free "$PORT" || die "port $PORT is in use"
else
  # below the ephemeral range, so outgoing connections cannot take it between the check and the bind
  for _ in $(seq 50); do PORT=$((20000 + RANDOM % 12000)); port_free "$PORT" && break; done
fi
printf '#!/bin/sh\nexec nsenter -t %s -n -- socat STDIO TCP:127.0.0.1:%s\n' "$H" "$APISERVER_PORT" > "$D/config/forward.sh"
chmod +x "$D/config/forward.sh"
setsid sh -c 'echo $$ > "$0"; exec "$@"' "$D/pids/apiserver-forward" \
  socat "TCP-LISTEN:$PORT,bind=127.0.0.1,reuseaddr,fork" "EXEC:$D/config/forward.sh" \
  >"$D/logs/apiserver-forward.log" 2>&1 </dev/null &
for _ in $(seq 50); do [[ -s $D/pids/apiserver-forward ]] && break; sleep 0.1; done
STARTED+=(apiserver-forward)
kubeconfig "$D/admin.kubeconfig" admin "https://127.0.0.1:$PORT"
wait_for "kube-apiserver /readyz" 180 "${KUBECTL[@]}" get --raw /readyz
log "kube-apiserver $VERSION ready ($((SECONDS - T0)) s)"

# --- controller-manager and scheduler ---------------------------------------------------------------------------------
kcm_flags=(
  --kubeconfig="$D/config/kube-controller-manager.kubeconfig"
  --authentication-kubeconfig="$D/config/kube-controller-manager.kubeconfig"
  --authorization-kubeconfig="$D/config/kube-controller-manager.kubeconfig"
  --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true
  --service-account-private-key-file="$P/sa.key" --root-ca-file="$P/ca.crt"
  --cluster-signing-cert-file="$P/ca.crt" --cluster-signing-key-file="$P/ca.key"
)
scheduler_flags=(
  --kubeconfig="$D/config/kube-scheduler.kubeconfig"
  --authentication-kubeconfig="$D/config/kube-scheduler.kubeconfig"
  --authorization-kubeconfig="$D/config/kube-scheduler.kubeconfig"
  --bind-address=127.0.0.1 --leader-elect=false
)
# the insecure ports (gone in newer releases): 0 turns them off where they still exist
if has kube-controller-manager --port; then kcm_flags+=(--port=0); fi
if has kube-scheduler --port; then scheduler_flags+=(--port=0); fi
# else it creates /usr/libexec/kubernetes/kubelet-plugins/volume/exec on the host (FlexVolume, deprecated)
if has kube-controller-manager --flex-volume-plugin-dir; then kcm_flags+=(--flex-volume-plugin-dir="$D/kcm-volume-plugins"); fi
start kube-controller-manager "$BIN/kube-controller-manager" "${kcm_flags[@]}"
start kube-scheduler "$BIN/kube-scheduler" "${scheduler_flags[@]}"

# --- containerd -------------------------------------------------------------------------------------------------------
cat > "$D/cni/net.d/10-bridge.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "anvil-pods",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$D/cni/ipam", "ranges": [[{"subnet": "$POD_CIDR"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
cat > "$D/config/containerd.toml" <<EOF
version = 2
root = "$D/containerd/root"
state = "$D/containerd/state"
[grpc]
  address = "$D/containerd/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$D/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  # imported from images/pause.tar, never pulled
  sandbox_image = "localhost/pause:k8s"
  # containerd runs with the oom_score_adj it inherits; without this, containers asking for a lower one fail
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$D/cni/net.d"
EOF
start containerd containerd --config "$D/config/containerd.toml"
CTR=("${NS[@]}" ctr --address "$D/containerd/containerd.sock" -n k8s.io)
wait_for containerd 60 "${CTR[@]}" version
# the sandbox image first: nothing can run without it
"${CTR[@]}" images import "$D/images/pause.tar" >/dev/null

# --- the kubelet's cgroup root and the machine-wide sysctls it changes ------------------------------------------------
for ctl in /sys/fs/cgroup/*/; do
  [[ -e $ctl/cgroup.procs && ! -L ${ctl%/} ]] || continue
  mkdir -p "$ctl$CGROUP_ROOT"
  # a new cpuset cgroup starts with no CPUs and no memory nodes: give it its parent's
  if [[ -e $ctl/cpuset.cpus ]]; then
    cat "$ctl/cpuset.cpus" > "$ctl$CGROUP_ROOT/cpuset.cpus"
    cat "$ctl/cpuset.mems" > "$ctl$CGROUP_ROOT/cpuset.mems"
  fi
done
(
  flock 8
  mkdir -p "$REGISTRY"
  for f in "$REGISTRY"/*.cluster; do
    [[ -e $f ]] || continue
    # a registered holder (a `sleep`) that is gone: that cluster crashed without its stop
    [[ $(cat "/proc/$(cat "$f")/comm" 2>/dev/null) == sleep ]] || rm -f "$f"
  done
  # the first of the running clusters records the values; a file left by a crashed run holds the originals still
  if ! compgen -G "$REGISTRY/*.cluster" >/dev/null && [[ ! -s $REGISTRY/sysctl-before.txt ]]; then
    for s in vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys \
             kernel.keys.root_maxbytes; do
      echo "$s=$(sysctl -n $s)"
    done > "$REGISTRY/sysctl-before.txt"
  fi
  echo "$H" > "$REGISTRY/$ID.cluster"
) 8</run

# --- kubelet ----------------------------------------------------------------------------------------------------------
echo "nameserver $NODE_IP" > "$D/config/resolv.conf" # no cluster DNS: lookups fail fast instead of timing out
cat > "$D/config/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$P/ca.crt"}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
cgroupRoot: "$CGROUP_ROOT"
failSwapOn: false
resolvConf: "$D/config/resolv.conf"
clusterDomain: cluster.local
serializeImagePulls: false
evictionHard: {memory.available: "200Mi", nodefs.available: "5%", imagefs.available: "5%"}
EOF
kubelet_flags=(
  --config="$D/config/kubelet.yaml" --kubeconfig="$D/config/kubelet.kubeconfig"
  --root-dir="$D/kubelet" --cert-dir="$D/kubelet/pki" --volume-plugin-dir="$D/kubelet/volume-plugins"
  --container-runtime-endpoint="unix://$D/containerd/containerd.sock" --runtime-request-timeout=10m
  --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --v=1
)
# removed in 1.27, where the CRI is the only runtime
if has kubelet --container-runtime; then kubelet_flags+=(--container-runtime=remote); fi
start kubelet "$BIN/kubelet" "${kubelet_flags[@]}"

# --- kube-proxy -------------------------------------------------------------------------------------------------------
cat > "$D/config/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$D/config/kube-proxy.kubeconfig"}
mode: iptables
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
bindAddress: 0.0.0.0
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# 0: leave the machine-wide conntrack table size and timeouts alone
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
start kube-proxy "$BIN/kube-proxy" --config="$D/config/kube-proxy.yaml"

# --- the other images, then wait for the node and the default ServiceAccount -------------------------------------------
for tar in "$D"/images/*.tar; do
  [[ $tar == "$D/images/pause.tar" ]] || "${CTR[@]}" images import "$tar" >/dev/null
done
node_ready() {
  "${KUBECTL[@]}" get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True
}
wait_for "node $NODE_NAME Ready" 300 node_ready
# pods are refused until the ServiceAccount controller has made the namespace's default ServiceAccount
wait_for "ServiceAccount default/default" 120 "${KUBECTL[@]}" -n default get serviceaccount default
check_alive
# and the host side: the forwarder on 127.0.0.1
wait_for "the apiserver through 127.0.0.1:$PORT" 30 "$BIN/kubectl" --kubeconfig "$D/admin.kubeconfig" \
  --cache-dir "$D/kube-cache" get --raw /readyz

cat > "$D/cluster.env" <<EOF
KUBECONFIG=$D/admin.kubeconfig
SERVER=https://127.0.0.1:$PORT
VERSION=$VERSION
BIN=$BIN
NODE_NAME=$NODE_NAME
NODE_IP=$NODE_IP
POD_CIDR=$POD_CIDR
SERVICE_CIDR=$SERVICE_CIDR
CGROUP_ROOT=$CGROUP_ROOT
HOLDER_PID=$H
CONTAINERD_SOCKET=$D/containerd/containerd.sock
EOF
failed=0
log "node $NODE_NAME Ready, Kubernetes $VERSION, apiserver https://127.0.0.1:$PORT ($((SECONDS - T0)) s)"
echo "$D"
