# What `make demo` shows: the module loaded and answering over generic netlink.
. /vdp/lib.sh
echo "== vdp demo =="
echo "\$ insmod vdp.ko"
load_vdp
echo "\$ vdpctl info"
vdpctl info
echo "\$ vdpctl info --json"
vdpctl info --json
echo "\$ rmmod vdp"
unload_vdp
echo "== demo finished =="
