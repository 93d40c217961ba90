/*
 * Unit tests of control/config: every class of bad config with its exact message, the shipped
 * configs (config/lab.json, config/example.json), defaults, the default route, and loading
 * files (missing, too large, not regular, syntax and validation errors with the file name).
 *
 * JSON in the tables is written with single quotes for readability; cfg_json() turns them
 * into double quotes before parsing.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "impair.h"
#include "sl_log.h"
#include "sl_util.h"

#ifndef SL_SOURCE_ROOT
#error "SL_SOURCE_ROOT must name the source tree"
#endif

#define ERRLEN 512

/* A valid port, with room for more fields. */
#define PORT(...) "{'name': 'lab0', 'vdev': 'net_tap0', 'address': '198.18.0.2/24'" __VA_ARGS__ "}"
/* A valid config with one port, and room for more top-level fields. */
#define CFG(...) "{'ports': [" PORT() "]" __VA_ARGS__ "}"
/* A config with the given ports. */
#define PORTS(...) "{'ports': [" __VA_ARGS__ "]}"
/* One port with fields replacing the usual name/vdev/address. */
#define PORT_RAW(...) PORTS("{" __VA_ARGS__ "}")
#define ROUTES(...) PORTS(PORT(", 'routes': [" __VA_ARGS__ "]"))
#define ROUTES_GW(...) PORTS(PORT(", 'gateway': '198.18.0.1', 'routes': [" __VA_ARGS__ "]"))

#define X10 "xxxxxxxxxx"
#define X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define D10 "0123456789"
#define ARGS8 "'-v', '-v', '-v', '-v', '-v', '-v', '-v', '-v'"

static char *
cfg_json(const char *s)
{
	char *j = strdup(s);

	cr_assert_not_null(j);
	for (char *p = j; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return j;
}

static int
parse(const char *single_quoted, struct sl_config *cfg, char *err)
{
	char *j = cfg_json(single_quoted);
	int rc = sl_config_parse(j, strlen(j), cfg, err, ERRLEN);

	free(j);
	return rc;
}

/*
 * Bad configs: each must fail with -EINVAL and exactly this message.
 */

struct bad_case {
	const char *json;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	/* JSON syntax: line:column: jansson's message */
	{"", "1:0: '[' or '{' expected near end of file"},
	{"{'workers': 1,}", "1:15: string or '}' expected near '}'"},
	{"{\n  'workers': 1\n  'ports': []\n}", "3:9: '}' expected near '\"ports\"'"},
	{"{'workers': 1, 'workers': 2}", "1:24: duplicate object key near '\"workers\"'"},
	{"{'workers': 99999999999999999999}", "1:32: too big integer near '99999999999999999999'"},
	{"5", "1:1: '[' or '{' expected near '5'"},
	/* top level */
	{"[]", "top level: must be an object"},
	{"{}", "ports: missing required field"},
	{"{'ports': []}", "ports: must be a non-empty array"},
	{"{'ports': {}}", "ports: must be a non-empty array"},
	{"{'ports': [1, 1, 1, 1, 1, 1, 1, 1, 1]}", "ports: at most 8 entries"},
	{"{'ports': [5]}", "ports[0]: must be an object"},
	/* unknown fields, top level and nested, named even when odd */
	{CFG(", 'frontends': []"), "frontends: unknown field"},
	/* listeners */
	{CFG(", 'listeners': {}"), "listeners: must be an array"},
	{CFG(", 'listeners': [{'address': '198.18.0.2:7'}]"),
	 "listeners[0].protocol: missing required field"},
	{CFG(", 'listeners': [{'address': '198.18.0.2', 'protocol': 'echo'}]"),
	 "listeners[0].address: not an address:port: \"198.18.0.2\""},
	{CFG(", 'listeners': [{'address': '198.18.0.2:0', 'protocol': 'echo'}]"),
	 "listeners[0].address: not a port from 1 to 65535: \"0\""},
	{CFG(", 'listeners': [{'address': '198.18.0.2:65536', 'protocol': 'echo'}]"),
	 "listeners[0].address: not a port from 1 to 65535: \"65536\""},
	{CFG(", 'listeners': [{'address': '198.18.0.2:+7', 'protocol': 'echo'}]"),
	 "listeners[0].address: not a port from 1 to 65535: \"+7\""},
	{CFG(", 'listeners': [{'address': '198.18.0.x:7', 'protocol': 'echo'}]"),
	 "listeners[0].address: not an IPv4 address: \"198.18.0.x\""},
	{CFG(", 'listeners': [{'address': '198.18.0.2:7', 'protocol': 'https'}]"),
	 "listeners[0].protocol: not one of \"echo\", \"discard\", \"chargen\", \"http\", "
	 "\"native\": \"https\""},
	{CFG(", 'listeners': [{'address': '198.18.0.2:10053', 'protocol': 'native'}]"),
	 "listeners[0].protocol: a native listener needs app_ports: the port of the first app "
	 "(app i is on app_ports + i)"},
	{CFG(", 'listeners': [{'address': '198.18.0.2:80', 'protocol': 'http', 'app_ports': 2}]"),
	 "listeners[0].app_ports: only for protocol \"native\""},
	{CFG(", 'listeners': [{'address': '198.18.0.2:10053', 'protocol': 'native', "
	     "'app_ports': 65535}], 'apps': {'a': {}, 'b': {}}"),
	 "listeners[0].app_ports: 2 apps from port 65535 run past 65535"},
	{CFG(", 'listeners': [{'address': '198.18.0.2:10053', 'protocol': 'native', "
	     "'app_ports': 79}, {'address': '198.18.0.2:80', 'protocol': 'http'}], "
	     "'apps': {'a': {}, 'b': {}}"),
	 "listeners[0].app_ports: the app ports 79..80 take listeners[1]'s port 80"},
	{CFG(", 'listeners': [{'address': '198.18.0.2:7', 'protocol': 'echo', 'health': true}]"),
	 "listeners[0].health: only for protocol \"http\""},
	{CFG(", 'listeners': [{'address': '198.18.0.2:7', 'protocol': 'echo', 'mirror': true}]"),
	 "listeners[0].mirror: only for protocol \"http\""},
	{CFG(", 'listeners': [{'address': '198.18.0.2:80', 'protocol': 'http', 'mirror': 1}]"),
	 "listeners[0].mirror: must be true or false"},
	{CFG(", 'limits': {'header_bytes': 255}"),
	 "limits.header_bytes: must be an integer from 256 to 1048576"},
	{CFG(", 'limits': {'header_fields': 0}"),
	 "limits.header_fields: must be an integer from 1 to 4096"},
	{CFG(", 'limits': {'uri_bytes': 2000000}"),
	 "limits.uri_bytes: must be an integer from 16 to 1048576"},
	{CFG(", 'limits': {'body_bytes': 0}"),
	 "limits.body_bytes: must be an integer from 1 to 1099511627776"},
	{CFG(", 'limits': {'chunk_line_bytes': 8}"),
	 "limits.chunk_line_bytes: must be an integer from 16 to 65536"},
	{CFG(", 'limits': {'header_timeout_ms': 999}"),
	 "limits.header_timeout_ms: must be an integer from 1000 to 3600000"},
	{CFG(", 'limits': {'body_timeout_ms': '5s'}"),
	 "limits.body_timeout_ms: must be an integer from 1000 to 3600000"},
	{CFG(", 'limits': {'keepalive_ms': 0}"),
	 "limits.keepalive_ms: must be an integer from 1000 to 3600000"},
	{CFG(", 'dispatch': {'pool_size': 17}"),
	 "dispatch.pool_size: must be an integer from 1 to 16"},
	{CFG(", 'dispatch': {'connect_timeout_ms': 5}"),
	 "dispatch.connect_timeout_ms: must be an integer from 10 to 60000"},
	{CFG(", 'limits': {'drain_timeout_ms': 99}"),
	 "limits.drain_timeout_ms: must be an integer from 100 to 600000"},
	{CFG(", 'limits': {'drain_timeout_ms': 600001}"),
	 "limits.drain_timeout_ms: must be an integer from 100 to 600000"},
	{CFG(", 'limits': {'drain_timeout_ms': -1}"),
	 "limits.drain_timeout_ms: must be an integer from 100 to 600000"},
	{CFG(", 'limits': {'drain_timeout_ms': 3.5}"),
	 "limits.drain_timeout_ms: must be an integer from 100 to 600000"},
	{CFG(", 'limits': {'connections_per_worker': 100, 'http_connections_per_worker': 101}"),
	 "limits.http_connections_per_worker: must not exceed limits.connections_per_worker (100)"},
	{CFG(", 'listeners': [{'address': '198.18.0.2:7', 'protocol': 'echo', 'backlog': 0}]"),
	 "listeners[0].backlog: must be an integer from 1 to 65535"},
	{CFG(", 'listeners': [{'address': '198.18.0.2:7', 'protocol': 'echo'}, "
	     "{'address': '198.18.0.2:7', 'protocol': 'discard'}]"),
	 "listeners[1].address: duplicate of listeners[0].address 198.18.0.2:7"},
	{CFG(", 'listeners': [{'address': '198.18.0.9:7', 'protocol': 'echo'}]"),
	 "listeners[0].address: 198.18.0.9 is not the address of any port"},
	/* impairment */
	{PORTS(PORT(", 'impair': []")), "ports[0].impair: must be an object"},
	{PORTS(PORT(", 'impair': {'up': {}}")), "ports[0].impair.up: unknown field"},
	{PORTS(PORT(", 'impair': {'rx': {'loss_pct': 101}}")),
	 "ports[0].impair.rx.loss_pct: must be a number from 0 to 100"},
	{PORTS(PORT(", 'impair': {'tx': {'reorder_pct': '1'}}")),
	 "ports[0].impair.tx.reorder_pct: must be a number from 0 to 100"},
	{PORTS(PORT(", 'impair': {'rx': {'delay_ms': 20, 'jitter_ms': 30}}")),
	 "ports[0].impair.rx.jitter_ms: must not exceed delay_ms (20)"},
	{PORTS(PORT(", 'impair': {'rx': {'delay_ms': 10001}}")),
	 "ports[0].impair.rx.delay_ms: must be an integer from 0 to 10000"},
	/* tcp and limits */
	{CFG(", 'tcp': {'mss': 100}"), "tcp.mss: must be an integer from 536 to 9000"},
	{CFG(", 'tcp': {'wscale': 15}"), "tcp.wscale: must be an integer from 0 to 14"},
	{CFG(", 'tcp': {'time_wait_ms': -1}"),
	 "tcp.time_wait_ms: must be an integer from 0 to 240000"},
	{CFG(", 'tcp': {'rto_min_ms': 5000, 'rto_max_ms': 1000}"),
	 "tcp.rto_min_ms: must not exceed tcp.rto_max_ms (1000)"},
	{CFG(", 'tcp': {'nagle': true}"), "tcp.nagle: unknown field"},
	{CFG(", 'limits': {'connections_per_worker': 1}"),
	 "limits.connections_per_worker: must be an integer from 16 to 4194304"},
	{"{'foo': 1, 'ports': []}", "foo: unknown field"},
	{CFG(", 'eal': {'argv': []}"), "eal.argv: unknown field"},
	{CFG(", 'control': {'metrics': '127.0.0.1:9100'}"), "control.metrics: unknown field"},
	{ROUTES("{'dst': '10.0.0.0/8', 'gw': '198.18.0.1'}"),
	 "ports[0].routes[0].gw: unknown field"},
	{"{'a\\nb\\\"c': 1}", "a\\x0ab\\\"c: unknown field"},
	/* wrong types name the expected type */
	{CFG(", 'workers': '2'"), "workers: must be an integer from 1 to 64"},
	{CFG(", 'workers': 1.0"), "workers: must be an integer from 1 to 64"},
	{CFG(", 'workers': true"), "workers: must be an integer from 1 to 64"},
	{CFG(", 'eal': 5"), "eal: must be an object"},
	{CFG(", 'eal': {'args': '--no-huge'}"), "eal.args: must be an array of strings"},
	{CFG(", 'eal': {'args': ['--no-huge', 1]}"), "eal.args[1]: must be a string"},
	{CFG(", 'eal': {'lcores': 3}"), "eal.lcores: must be a string"},
	{CFG(", 'control': []"), "control: must be an object"},
	{CFG(", 'control': {'socket': null}"), "control.socket: must be a string"},
	{CFG(", 'dataplane': {'burst': '32'}"),
	 "dataplane.burst: must be an integer from 1 to 256"},
	{CFG(", 'log': {'syslog': 'yes'}"), "log.syslog: must be true or false"},
	{CFG(", 'log': {'level': 6}"),
	 "log.level: must be one of \"err\", \"warning\", \"notice\", \"info\", \"debug\""},
	{CFG(", 'log': {'level': 'verbose'}"),
	 "log.level: must be one of \"err\", \"warning\", \"notice\", \"info\", \"debug\""},
	{PORT_RAW("'name': 5"), "ports[0].name: must be a string"},
	{PORTS(PORT(", 'gateway': 3323068417")), "ports[0].gateway: must be a string"},
	{PORTS(PORT(", 'routes': {}")), "ports[0].routes: must be an array"},
	{ROUTES("'10.0.0.0/8'"), "ports[0].routes[0]: must be an object"},
	/* integer ranges */
	{CFG(", 'workers': 0"), "workers: must be an integer from 1 to 64"},
	{CFG(", 'workers': 65"), "workers: must be an integer from 1 to 64"},
	{CFG(", 'workers': -1"), "workers: must be an integer from 1 to 64"},
	{PORTS(PORT(", 'mtu': 575")), "ports[0].mtu: must be an integer from 576 to 9000"},
	{PORTS(PORT(", 'mtu': 9001")), "ports[0].mtu: must be an integer from 576 to 9000"},
	{CFG(", 'dataplane': {'mbufs_per_port': 1023}"),
	 "dataplane.mbufs_per_port: must be an integer from 1024 to 1048576"},
	{CFG(", 'dataplane': {'rx_desc': 4097}"),
	 "dataplane.rx_desc: must be an integer from 64 to 4096"},
	{CFG(", 'dataplane': {'tx_desc': 63}"),
	 "dataplane.tx_desc: must be an integer from 64 to 4096"},
	{CFG(", 'dataplane': {'burst': 257}"), "dataplane.burst: must be an integer from 1 to 256"},
	{CFG(", 'dataplane': {'tx_drain_us': 0}"),
	 "dataplane.tx_drain_us: must be an integer from 1 to 10000"},
	{CFG(", 'dataplane': {'idle_spin_us': -1}"),
	 "dataplane.idle_spin_us: must be an integer from 0 to 100000"},
	{CFG(", 'dataplane': {'idle_sleep_us': 1001}"),
	 "dataplane.idle_sleep_us: must be an integer from 1 to 1000"},
	{CFG(", 'neighbour': {'reachable_ms': 999}"),
	 "neighbour.reachable_ms: must be an integer from 1000 to 86400000"},
	{CFG(", 'neighbour': {'retry_ms': 60001}"),
	 "neighbour.retry_ms: must be an integer from 10 to 60000"},
	{CFG(", 'neighbour': {'max_tries': 21}"),
	 "neighbour.max_tries: must be an integer from 1 to 20"},
	/* IPv4 forms */
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '198.18.0.x/24'"),
	 "ports[0].address: not an IPv4 address: \"198.18.0.x\""},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '198.18.0.x'"),
	 "ports[0].address: not an IPv4 address: \"198.18.0.x\""},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '1.2.3/24'"),
	 "ports[0].address: not an IPv4 address: \"1.2.3\""},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '01.2.3.4/8'"),
	 "ports[0].address: not an IPv4 address: \"01.2.3.4\""},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '256.1.1.1/8'"),
	 "ports[0].address: not an IPv4 address: \"256.1.1.1\""},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '+1.2.3.4/8'"),
	 "ports[0].address: not an IPv4 address: \"+1.2.3.4\""},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '0x1.2.3.4/8'"),
	 "ports[0].address: not an IPv4 address: \"0x1.2.3.4\""},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '1.2.3.4.5/8'"),
	 "ports[0].address: not an IPv4 address: \"1.2.3.4.5\""},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '1.2.3.1000/8'"),
	 "ports[0].address: not an IPv4 address: \"1.2.3.1000\""},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': ''"),
	 "ports[0].address: not an IPv4 address: \"\""},
	{PORTS(PORT(", 'gateway': '1.2.3.4 '")),
	 "ports[0].gateway: not an IPv4 address: \"1.2.3.4 \""},
	{PORTS(PORT(", 'gateway': '198.18.0.1/24'")),
	 "ports[0].gateway: not an IPv4 address: \"198.18.0.1/24\""},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '2001:db8::2/64'"),
	 "ports[0].address: IPv6 is not supported yet: \"2001:db8::2\""},
	{PORTS(PORT(", 'gateway': 'fe80::1'")),
	 "ports[0].gateway: IPv6 is not supported yet: \"fe80::1\""},
	/* prefixes */
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '198.18.0.2'"),
	 "ports[0].address: missing prefix length (a.b.c.d/len): \"198.18.0.2\""},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '198.18.0.2/33'"),
	 "ports[0].address: prefix length must be an integer from 0 to 32: \"33\""},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '198.18.0.2/'"),
	 "ports[0].address: prefix length must be an integer from 0 to 32: \"\""},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '198.18.0.2/024'"),
	 "ports[0].address: prefix length must be an integer from 0 to 32: \"024\""},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '198.18.0.2/-1'"),
	 "ports[0].address: prefix length must be an integer from 0 to 32: \"-1\""},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '198.18.0.0/24'"),
	 "ports[0].address: 198.18.0.0 is the network address of 198.18.0.0/24"},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '198.18.1.255/23'"),
	 "ports[0].address: 198.18.1.255 is the broadcast address of 198.18.0.0/23"},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '127.0.0.1/8'"),
	 "ports[0].address: 127.0.0.1 is a loopback address"},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '224.0.0.5/24'"),
	 "ports[0].address: 224.0.0.5 is a multicast address"},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '0.0.0.1/8'"),
	 "ports[0].address: 0.0.0.1 is in 0.0.0.0/8 (this network)"},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0', 'address': '240.0.0.1/4'"),
	 "ports[0].address: 240.0.0.1 is a reserved address (240.0.0.0/4)"},
	/* gateway */
	{PORTS(PORT(", 'gateway': '10.0.0.1'")),
	 "ports[0].gateway: 10.0.0.1 is not on the port's subnet 198.18.0.0/24"},
	{PORTS(PORT(", 'gateway': '198.18.0.2'")),
	 "ports[0].gateway: 198.18.0.2 is the port's own address"},
	{PORTS(PORT(", 'gateway': '198.18.0.255'")),
	 "ports[0].gateway: 198.18.0.255 is the broadcast address of 198.18.0.0/24"},
	{PORTS(PORT(", 'gateway': '198.18.0.0'")),
	 "ports[0].gateway: 198.18.0.0 is the network address of 198.18.0.0/24"},
	{PORTS(PORT(", 'gateway': '255.255.255.255'")),
	 "ports[0].gateway: 255.255.255.255 is the broadcast address"},
	/* the gateway is checked against the address even when it comes first */
	{PORT_RAW(
		 "'gateway': '10.0.0.1', 'name': 'a', 'vdev': 'net_tap0', 'address': '198.18.0.2/24'"),
	 "ports[0].gateway: 10.0.0.1 is not on the port's subnet 198.18.0.0/24"},
	/* required port fields */
	{PORT_RAW("'name': 'a', 'address': '198.18.0.2/24'"),
	 "ports[0].vdev: missing required field"},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0'"), "ports[0].address: missing required field"},
	{PORT_RAW("'vdev': 'net_tap0', 'address': '198.18.0.2/24'"),
	 "ports[0].name: missing required field"},
	/* names and duplicates across ports */
	{PORTS(PORT() ", {'name': 'lab0', 'vdev': 'net_tap1', 'address': '198.18.1.2/24'}"),
	 "ports[1].name: duplicate of ports[0].name \"lab0\""},
	{PORTS(PORT() ", {'name': 'lab1', 'vdev': 'net_tap0,iface=x', 'address': '198.18.1.2/24'}"),
	 "ports[1].vdev: duplicate of ports[0].vdev device \"net_tap0\""},
	{PORTS(PORT() ", {'name': 'lab1', 'vdev': 'net_tap1', 'address': '198.18.0.2/16'}"),
	 "ports[1].address: duplicate of ports[0].address 198.18.0.2"},
	{PORT_RAW("'name': 'lab 0', 'vdev': 'net_tap0', 'address': '198.18.0.2/24'"),
	 "ports[0].name: must be 1 to 31 characters from [A-Za-z0-9_-]: \"lab 0\""},
	{PORT_RAW("'name': '', 'vdev': 'net_tap0', 'address': '198.18.0.2/24'"),
	 "ports[0].name: must be 1 to 31 characters from [A-Za-z0-9_-]: \"\""},
	/* strings too long for their buffers */
	{PORT_RAW("'name': '" X10 X10 X10 "ab', 'vdev': 'net_tap0', 'address': '198.18.0.2/24'"),
	 "ports[0].name: too long (32 bytes, at most 31)"},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0," X100 X100 X10 X10 X10 X10 X10
		  "x', 'address': '198.18.0.2/24'"),
	 "ports[0].vdev: too long (260 bytes, at most 255)"},
	{CFG(", 'control': {'socket': '/" X100 "1234567'}"),
	 "control.socket: too long (108 bytes, at most 107)"},
	{CFG(", 'eal': {'file_prefix': '" X10 X10 X10 X10 X10 X10 "abcd'}"),
	 "eal.file_prefix: too long (64 bytes, at most 63)"},
	{CFG(", 'eal': {'lcores': '" D10 D10 D10 D10 D10 D10 D10 D10 D10 D10 D10 D10 "01234567'}"),
	 "eal.lcores: too long (128 bytes, at most 127)"},
	{CFG(", 'eal': {'args': ['--x=" X100 X100 X10 X10 X10 X10 X10 "ab']}"),
	 "eal.args[0]: too long (256 bytes, at most 255)"},
	/* control */
	{CFG(", 'control': {'socket': 'run/sluiced.sock'}"),
	 "control.socket: must be an absolute path"},
	{CFG(", 'control': {'socket': ''}"), "control.socket: must be an absolute path"},
	/* EAL arguments */
	{CFG(", 'eal': {'args': ['--no-huge', '--vdev=net_tap0']}"),
	 "eal.args[1]: \"--vdev=net_tap0\" is not allowed here, use ports[].vdev instead"},
	{CFG(", 'eal': {'args': ['--vdev', 'net_tap0']}"),
	 "eal.args[0]: \"--vdev\" is not allowed here, use ports[].vdev instead"},
	{CFG(", 'eal': {'args': ['--file-prefix', 'x']}"),
	 "eal.args[0]: \"--file-prefix\" is not allowed here, use eal.file_prefix instead"},
	{CFG(", 'eal': {'args': ['--file-pref=x']}"),
	 "eal.args[0]: \"--file-pref=x\" is not allowed here, use eal.file_prefix instead"},
	{CFG(", 'eal': {'args': ['-l', '0-3']}"),
	 "eal.args[0]: \"-l\" is not allowed here, use eal.lcores or workers instead"},
	{CFG(", 'eal': {'args': ['-l0-3']}"),
	 "eal.args[0]: \"-l0-3\" is not allowed here, use eal.lcores or workers instead"},
	{CFG(", 'eal': {'args': ['-c', '0xf']}"),
	 "eal.args[0]: \"-c\" is not allowed here, use eal.lcores or workers instead"},
	{CFG(", 'eal': {'args': ['--lcores=0@0,1@1']}"),
	 "eal.args[0]: \"--lcores=0@0,1@1\" is not allowed here, use eal.lcores instead"},
	{CFG(", 'eal': {'args': ['--main-lcore', '1']}"),
	 "eal.args[0]: \"--main-lcore\" is not allowed here, use eal.lcores instead (its first "
	 "lcore is the main one)"},
	{CFG(", 'eal': {'args': ['--']}"),
	 "eal.args[0]: \"--\" is not allowed here, sluiced ends the EAL arguments itself"},
	{CFG(", 'eal': {'args': ['--no-huge', '']}"), "eal.args[1]: must not be empty"},
	{CFG(", 'eal': {'args': [" ARGS8 ", " ARGS8 ", " ARGS8 ", " ARGS8 ", " ARGS8 ", " ARGS8
	     ", '-v']}"),
	 "eal.args: at most 48 entries"},
	{CFG(", 'eal': {'lcores': '0-3 '}"),
	 "eal.lcores: must be a non-empty string of 0-9 @ , ( ) -: \"0-3 \""},
	{CFG(", 'eal': {'lcores': ''}"),
	 "eal.lcores: must be a non-empty string of 0-9 @ , ( ) -: \"\""},
	{CFG(", 'eal': {'file_prefix': '../x'}"),
	 "eal.file_prefix: must be characters from [A-Za-z0-9_.-], not starting with '.': \"../x\""},
	/* MAC addresses */
	{PORTS(PORT(", 'mac': 'aa:bb:cc:dd:ee'")),
	 "ports[0].mac: not a MAC address (aa:bb:cc:dd:ee:ff): \"aa:bb:cc:dd:ee\""},
	{PORTS(PORT(", 'mac': 'aa-bb-cc-dd-ee-ff'")),
	 "ports[0].mac: not a MAC address (aa:bb:cc:dd:ee:ff): \"aa-bb-cc-dd-ee-ff\""},
	{PORTS(PORT(", 'mac': '02:00:00:00:00:0g'")),
	 "ports[0].mac: not a MAC address (aa:bb:cc:dd:ee:ff): \"02:00:00:00:00:0g\""},
	{PORTS(PORT(", 'mac': '02:00:00:00:00:00:'")),
	 "ports[0].mac: not a MAC address (aa:bb:cc:dd:ee:ff): \"02:00:00:00:00:00:\""},
	{PORTS(PORT(", 'mac': '01:00:5e:00:00:01'")),
	 "ports[0].mac: not a unicast MAC address: \"01:00:5e:00:00:01\""},
	{PORTS(PORT(", 'mac': 'FF:FF:FF:FF:FF:FF'")),
	 "ports[0].mac: not a unicast MAC address: \"FF:FF:FF:FF:FF:FF\""},
	{PORTS(PORT(", 'mac': '00:00:00:00:00:00'")),
	 "ports[0].mac: the all-zero MAC address is not allowed"},
	/* vdev strings */
	{PORT_RAW("'name': 'a', 'vdev': 'eth0', 'address': '198.18.0.2/24'"),
	 "ports[0].vdev: not a DPDK net vdev (must start with \"net_\"): \"eth0\""},
	{PORT_RAW("'name': 'a', 'vdev': 'net_,iface=x', 'address': '198.18.0.2/24'"),
	 "ports[0].vdev: not a DPDK net vdev (must start with \"net_\"): \"net_,iface=x\""},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0, iface=x', 'address': '198.18.0.2/24'"),
	 "ports[0].vdev: must not contain whitespace: \"net_tap0, iface=x\""},
	{PORT_RAW("'name': 'a', 'vdev': 'net_tap0,iface=x\\t', 'address': '198.18.0.2/24'"),
	 "ports[0].vdev: must not contain whitespace: \"net_tap0,iface=x\\x09\""},
	/* routes */
	{ROUTES("1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, "
		"1, 1, 1, 1, 1"),
	 "ports[0].routes: at most 32 entries"},
	{ROUTES("{'dst': '10.0.0.0/8', 'via': '198.18.0.1'}, {'dst': '10.0.0.0/8', 'via': "
		"'198.18.0.3'}"),
	 "ports[0].routes[1].dst: duplicate of ports[0].routes[0].dst 10.0.0.0/8"},
	{ROUTES_GW("{'dst': '0.0.0.0/0', 'via': '198.18.0.3'}"),
	 "ports[0].routes[0].dst: 0.0.0.0/0 duplicates the default route via ports[0].gateway"},
	{ROUTES("{'dst': '10.0.0.0/8', 'via': '10.0.0.1'}"),
	 "ports[0].routes[0].via: 10.0.0.1 is not on the port's subnet 198.18.0.0/24"},
	{ROUTES("{'dst': '10.0.0.0/8', 'via': '198.18.0.2'}"),
	 "ports[0].routes[0].via: 198.18.0.2 is the port's own address"},
	{ROUTES("{'dst': '10.1.2.3/16', 'via': '198.18.0.1'}"),
	 "ports[0].routes[0].dst: 10.1.2.3/16 has host bits set (the network is 10.1.0.0/16)"},
	{ROUTES("{'dst': '10.0.0.0', 'via': '198.18.0.1'}"),
	 "ports[0].routes[0].dst: missing prefix length (a.b.c.d/len): \"10.0.0.0\""},
	{ROUTES("{'dst': '10.0.0.0/8'}"), "ports[0].routes[0].via: missing required field"},
	{ROUTES("{'via': '198.18.0.1'}"), "ports[0].routes[0].dst: missing required field"},
	{ROUTES("{'dst': '10.0.0.0/8', 'via': '10.0.0.x'}"),
	 "ports[0].routes[0].via: not an IPv4 address: \"10.0.0.x\""},
	/* the first error in the file wins */
	{"{'workers': 0, 'foo': 1}", "workers: must be an integer from 1 to 64"},
	{"{'foo': 1, 'workers': 0}", "foo: unknown field"},
	/* nodes, apps, discovery (docs/nodes.md) */
	{CFG(", 'nodes': {}"), "nodes: must be an array"},
	{CFG(", 'nodes': [1]"), "nodes[0]: must be an object"},
	{CFG(", 'nodes': [{}]"), "nodes[0].locator: missing required field"},
	{CFG(", 'nodes': [{'locator': '198.18.0.11:10053', 'x': 1}]"), "nodes[0].x: unknown field"},
	{CFG(", 'nodes': [{'locator': 10053}]"), "nodes[0].locator: must be a string"},
	{CFG(", 'nodes': [{'locator': '198.18.0.11'}]"),
	 "nodes[0].locator: not an address:port: \"198.18.0.11\""},
	{CFG(", 'nodes': [{'locator': 'node1:10053'}]"),
	 "nodes[0].locator: not an IPv4 address: \"node1\""},
	{CFG(", 'nodes': [{'locator': '198.18.0.11:0'}]"),
	 "nodes[0].locator: not a port from 1 to 65535: \"0\""},
	{CFG(", 'nodes': [{'locator': '224.0.0.1:10053'}]"),
	 "nodes[0].locator: 224.0.0.1 is a multicast address"},
	{CFG(", 'nodes': [{'locator': '198.18.0.11:10053'}, {'locator': '198.18.0.12:10053'}, "
	     "{'locator': '198.18.0.11:10053'}]"),
	 "nodes[2].locator: duplicate of nodes[0].locator 198.18.0.11:10053"},
	{CFG(", 'apps': []"), "apps: must be an object"},
	{CFG(", 'apps': {'echo': 1}"), "apps.echo: must be an object"},
	{CFG(", 'apps': {'': {}}"),
	 "apps: an app name must be 1 to 63 characters from [A-Za-z0-9_.@-]: \"\""},
	{CFG(", 'apps': {'a b': {}}"),
	 "apps.a b: an app name must be 1 to 63 characters from [A-Za-z0-9_.@-]: \"a b\""},
	{CFG(", 'apps': {'echo': {'deadline_ms': 0}}"),
	 "apps.echo.deadline_ms: must be an integer from 1 to 600000"},
	{CFG(", 'apps': {'echo': {'deadline_ms': 600001}}"),
	 "apps.echo.deadline_ms: must be an integer from 1 to 600000"},
	{CFG(", 'apps': {'echo': {'retries': 11}}"),
	 "apps.echo.retries: must be an integer from 0 to 10"},
	{CFG(", 'apps': {'echo': {'policy': 'x'}}"), "apps.echo.policy: unknown field"},
	{CFG(", 'discovery': {'resolve_interval_ms': 99}"),
	 "discovery.resolve_interval_ms: must be an integer from 100 to 3600000"},
	{CFG(", 'discovery': {'info_interval_ms': 'x'}"),
	 "discovery.info_interval_ms: must be an integer from 100 to 3600000"},
	{CFG(", 'discovery': {'timeout_ms': 60001}"),
	 "discovery.timeout_ms: must be an integer from 10 to 60000"},
	{CFG(", 'discovery': {'down_after': 0}"),
	 "discovery.down_after: must be an integer from 1 to 100"},
	{CFG(", 'discovery': {'announce': true}"), "discovery.announce: unknown field"},
	/* routes, dispatch (docs/configuration.md) */
	{CFG(", 'routes': {}"), "routes: must be an array"},
	{CFG(", 'routes': [1]"), "routes[0]: must be an object"},
	{CFG(", 'apps': {'echo': {}}, 'routes': [{'app': 'echo', 'event': 'http'}]"),
	 "routes[0].prefix: missing required field"},
	{CFG(", 'apps': {'echo': {}}, 'routes': [{'prefix': '/', 'event': 'http'}]"),
	 "routes[0].app: missing required field"},
	{CFG(", 'apps': {'echo': {}}, 'routes': [{'prefix': '/', 'app': 'echo'}]"),
	 "routes[0].event: missing required field"},
	{CFG(", 'apps': {'echo': {}}, 'routes': [{'prefix': '/', 'app': 'echo', 'event': 'e', "
	     "'method': 'GET'}]"),
	 "routes[0].method: unknown field"},
	{CFG(", 'apps': {'echo': {}}, 'routes': [{'prefix': 'echo', 'app': 'echo', 'event': 'e'}]"),
	 "routes[0].prefix: a path prefix must start with '/': \"echo\""},
	{CFG(", 'apps': {'echo': {}}, 'routes': [{'prefix': '/a b', 'app': 'echo', 'event': 'e'}]"),
	 "routes[0].prefix: a path prefix must be printable ASCII without spaces, '?' or '#': "
	 "\"/a b\""},
	{CFG(", 'apps': {'echo': {}}, 'routes': [{'prefix': '/a?x', 'app': 'echo', 'event': 'e'}]"),
	 "routes[0].prefix: a path prefix must be printable ASCII without spaces, '?' or '#': "
	 "\"/a?x\""},
	{CFG(", 'apps': {'echo': {}}, 'routes': [{'prefix': '/" X100
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxx', "
	     "'app': 'echo', 'event': 'e'}]"),
	 "routes[0].prefix: too long (128 bytes, at most 127)"},
	{CFG(", 'apps': {'echo': {}}, 'routes': [{'prefix': 1, 'app': 'echo', 'event': 'e'}]"),
	 "routes[0].prefix: must be a string"},
	{CFG(", 'apps': {'echo': {}}, 'routes': [{'host': 'a.example:80', 'prefix': '/', "
	     "'app': 'echo', 'event': 'e'}]"),
	 "routes[0].host: a host must be 0 to 127 characters from [A-Za-z0-9.-], without a port: "
	 "\"a.example:80\""},
	{CFG(", 'apps': {'echo': {}}, 'routes': [{'host': 2, 'prefix': '/', 'app': 'echo', "
	     "'event': 'e'}]"),
	 "routes[0].host: must be a string"},
	{CFG(", 'apps': {'echo': {}}, 'routes': [{'prefix': '/', 'app': 'echo', 'event': ''}]"),
	 "routes[0].event: an event name must be 1 to 63 characters from [A-Za-z0-9_.@-]: \"\""},
	{CFG(", 'apps': {'echo': {}}, 'routes': [{'prefix': '/', 'app': 'echo', 'event': 'a/b'}]"),
	 "routes[0].event: an event name must be 1 to 63 characters from [A-Za-z0-9_.@-]: "
	 "\"a/b\""},
	{CFG(", 'apps': {'echo': {}}, 'routes': [{'prefix': '/', 'app': 'echo', 'event': 'e'}, "
	     "{'prefix': '/x', 'app': 'ehco', 'event': 'e'}]"),
	 "routes[1].app: no such app in apps: \"ehco\""},
	{CFG(", 'routes': [{'prefix': '/', 'app': 'echo', 'event': 'e'}]"),
	 "routes[0].app: no such app in apps: \"echo\""},
	{CFG(", 'apps': {'echo': {}}, 'routes': [{'host': 'A.example', 'prefix': '/', 'app': 'echo', "
	     "'event': 'e'}, {'host': 'a.EXAMPLE', 'prefix': '/', 'app': 'echo', 'event': 'f'}]"),
	 "routes[1].prefix: never matches: routes[0] has the same host and prefix"},
	{CFG(", 'dispatch': []"), "dispatch: must be an object"},
	{CFG(", 'dispatch': {'node_header': 1}"), "dispatch.node_header: must be true or false"},
	{CFG(", 'dispatch': {'access_log': 'access.log'}"),
	 "dispatch.access_log: must be an absolute path, or \"\" for none"},
	{CFG(", 'dispatch': {'access_log': 5}"), "dispatch.access_log: must be a string"},
	{CFG(", 'dispatch': {'log': '/tmp/x'}"), "dispatch.log: unknown field"},
};

/*
 * Criterion passes parameters to the test process by copy: pointers into this process would
 * not survive, so the parameter is an index into bad_cases.
 */
ParameterizedTestParameters(config, bad)
{
	static size_t idx[SL_ARRAY_SIZE(bad_cases)];

	for (size_t i = 0; i < SL_ARRAY_SIZE(idx); i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, SL_ARRAY_SIZE(idx));
}

ParameterizedTest(size_t *i, config, bad)
{
	const struct bad_case *c = &bad_cases[*i];
	struct sl_config cfg;
	char err[ERRLEN] = "";
	int rc;

	memset(&cfg, 0xa5, sizeof(cfg));
	rc = parse(c->json, &cfg, err);
	cr_expect_eq(rc, -EINVAL, "rc %d for %s", rc, c->json);
	cr_expect_str_eq(err, c->msg, "for %s\n  got:  %s\n  want: %s", c->json, err, c->msg);
	/* on failure nothing is left to free, and the config is zeroed */
	cr_expect_eq(cfg.eal_argc, 0);
	cr_expect_null(cfg.eal_argv[0]);
	cr_expect_eq(cfg.n_ports, 0);
	sl_config_free(&cfg);
}

/*
 * Good configs
 */

static void
load_ok(const char *path, struct sl_config *cfg)
{
	char err[ERRLEN] = "";
	int rc = sl_config_load(path, cfg, err, sizeof(err));

	cr_assert_eq(rc, 0, "%s: rc %d: %s", path, rc, err);
}

static void
expect_dataplane_defaults(const struct sl_config *cfg)
{
	cr_expect_eq(cfg->dataplane.mbufs_per_port, 8191);
	cr_expect_eq(cfg->dataplane.rx_desc, 1024);
	cr_expect_eq(cfg->dispatch.pool_size, 2);
	cr_expect_eq(cfg->dispatch.connect_timeout_ms, 1000);
	cr_expect_eq(cfg->dispatch.backoff_max_ms, 5000);
	cr_expect_eq(cfg->dispatch.native_connections, 1024);
	cr_expect_eq(cfg->dataplane.tx_desc, 1024);
	cr_expect_eq(cfg->dataplane.burst, 32);
	cr_expect_eq(cfg->dataplane.tx_drain_us, 100);
	cr_expect_eq(cfg->dataplane.idle_spin_us, 200);
	cr_expect_eq(cfg->dataplane.idle_sleep_us, 100);
	cr_expect_eq(cfg->neigh.reachable_us, 300000000ull);
	cr_expect_eq(cfg->neigh.retry_us, 1000000ull);
	cr_expect_eq(cfg->neigh.max_tries, 3);
}

Test(config, lab_json)
{
	struct sl_config cfg;
	const struct sl_cfg_port *p;

	load_ok(SL_SOURCE_ROOT "/config/lab.json", &cfg);
	cr_assert_eq(cfg.eal_argc, 4);
	cr_expect_str_eq(cfg.eal_argv[0], "--no-huge");
	cr_expect_str_eq(cfg.eal_argv[1], "-m");
	cr_expect_str_eq(cfg.eal_argv[2], "512"); /* room for 32767 mbufs: 10 MB bodies */
	cr_expect_str_eq(cfg.eal_argv[3], "--no-pci");
	cr_expect_null(cfg.eal_argv[4]);
	cr_expect_str_eq(cfg.lcores, "");
	cr_expect_str_eq(cfg.file_prefix, "sluice-lab");
	cr_expect_eq(cfg.workers, 2);
	cr_assert_eq(cfg.n_ports, 1);
	p = &cfg.ports[0];
	cr_expect_str_eq(p->name, "lab0");
	cr_expect_str_eq(p->vdev, "net_af_packet0,iface=sl-dp");
	cr_expect_eq(p->addr.v, 0xc6120002u);
	cr_expect_eq(p->prefix_len, 24);
	cr_expect(p->has_gateway);
	cr_expect_eq(p->gateway.v, 0xc6120001u);
	cr_expect_eq(p->mtu, 1500);
	cr_expect_not(p->has_mac);
	cr_assert_eq(p->routes.n, 1);
	cr_expect_eq(p->routes.r[0].dst.v, 0);
	cr_expect_eq(p->routes.r[0].prefix_len, 0);
	cr_expect_eq(p->routes.r[0].gateway.v, 0xc6120001u);
	cr_expect_str_eq(cfg.control.socket, "/run/sluice/sluice-lab.sock");
	cr_assert_eq(cfg.n_listeners, 2);
	cr_expect_eq(cfg.listeners[0].protocol, SL_PROTO_HTTP);
	cr_expect_eq(cfg.listeners[0].port, 80);
	cr_expect(cfg.listeners[0].health);
	cr_expect(cfg.listeners[0].mirror);
	cr_expect_eq(cfg.listeners[1].protocol, SL_PROTO_NATIVE); /* the locator on the VIP */
	cr_expect_eq(cfg.listeners[1].port, 10053);
	cr_expect_eq(cfg.listeners[1].app_ports, 20000);
	cr_expect_eq(cfg.log.level, SL_LOG_INFO);
	cr_expect_not(cfg.log.syslog);
	cr_expect(cfg.dispatch.node_header);
	cr_expect_str_eq(cfg.dispatch.access_log, "/run/sluice/sluice-lab/access.log");
	cr_expect_eq(cfg.dataplane.mbufs_per_port, 32767);
	cfg.dataplane.mbufs_per_port = 8191;
	expect_dataplane_defaults(&cfg);
	/* the lab's nodes (tools/lab nodes 3) and their echo app */
	cr_assert_eq(cfg.n_nodes, 3);
	for (unsigned int i = 0; i < 3; i++) {
		cr_expect_eq(cfg.nodes[i].addr.v, 0xc612000bu + i);
		cr_expect_eq(cfg.nodes[i].port, 10053);
	}
	cr_assert_eq(cfg.n_apps, 1);
	cr_expect_str_eq(cfg.apps[0].name, "echo");
	cr_expect_eq(cfg.apps[0].deadline_ms, 30000);
	cr_expect_eq(cfg.apps[0].retries, 2);
	cr_expect_eq(cfg.discovery.resolve_interval_ms, 1000);
	cr_expect_eq(cfg.discovery.info_interval_ms, 500);
	cr_expect_eq(cfg.discovery.timeout_ms, 500);
	cr_expect_eq(cfg.discovery.down_after, 2);
	sl_config_free(&cfg);
	cr_expect_eq(cfg.eal_argc, 0);
	cr_expect_null(cfg.eal_argv[0]);
}

Test(config, example_json)
{
	struct sl_config cfg;

	load_ok(SL_SOURCE_ROOT "/config/example.json", &cfg);
	cr_expect_gt(cfg.eal_argc, 0);
	cr_expect_neq(cfg.lcores[0], '\0');
	cr_expect_gt(cfg.workers, 1);
	cr_assert_geq(cfg.n_ports, 2);
	for (unsigned int i = 0; i < cfg.n_ports; i++) {
		const struct sl_cfg_port *p = &cfg.ports[i];

		cr_expect_neq(p->name[0], '\0');
		cr_expect_eq(strncmp(p->vdev, "net_", 4), 0);
	}
	/* every field is given: the first port has a MAC, an MTU, routes and a gateway */
	cr_expect(cfg.ports[0].has_mac);
	cr_expect(cfg.ports[0].has_gateway);
	cr_expect_eq(cfg.ports[1].mtu, 9000);
	cr_expect_geq(cfg.ports[0].routes.n, 2);
	cr_expect_eq(cfg.ports[0].routes.r[cfg.ports[0].routes.n - 1].prefix_len, 0);
	cr_expect_eq(cfg.log.level, SL_LOG_NOTICE);
	cr_expect(cfg.log.syslog);
	cr_expect_neq(cfg.neigh.max_tries, 3);
	sl_config_free(&cfg);
}

Test(config, defaults)
{
	struct sl_config cfg;
	char err[ERRLEN] = "";

	cr_assert_eq(parse(CFG(), &cfg, err), 0, "%s", err);
	cr_expect_eq(cfg.eal_argc, 0);
	cr_expect_null(cfg.eal_argv[0]);
	cr_expect_str_eq(cfg.lcores, "");
	cr_expect_str_eq(cfg.file_prefix, "sluiced");
	cr_expect_eq(cfg.workers, 1);
	cr_expect_eq(cfg.n_ports, 1);
	cr_expect_eq(cfg.ports[0].mtu, 1500);
	cr_expect_not(cfg.ports[0].has_gateway);
	cr_expect_not(cfg.ports[0].has_mac);
	cr_expect_eq(cfg.ports[0].routes.n, 0, "no gateway, no default route");
	cr_expect_str_eq(cfg.control.socket, "/run/sluice/sluiced.sock");
	cr_expect_eq(cfg.log.level, SL_LOG_INFO);
	cr_expect_not(cfg.log.syslog);
	expect_dataplane_defaults(&cfg);
	sl_config_free(&cfg);
}

Test(config, nodes_apps_discovery)
{
	struct sl_config cfg;
	char err[ERRLEN] = "";

	cr_assert_eq(parse(CFG(), &cfg, err), 0, "%s", err);
	cr_expect_eq(cfg.n_nodes, 0);
	cr_expect_eq(cfg.n_apps, 0);
	cr_expect_eq(cfg.discovery.resolve_interval_ms, 5000);
	cr_expect_eq(cfg.discovery.info_interval_ms, 1000);
	cr_expect_eq(cfg.discovery.timeout_ms, 1000);
	cr_expect_eq(cfg.discovery.down_after, 2);
	sl_config_free(&cfg);
	cr_assert_eq(
		parse(CFG(", 'nodes': [{'locator': '198.18.0.11:10053'}, "
			  "{'locator': '127.0.0.1:10054'}], "
			  "'apps': {'echo': {}, 'app@2': {'deadline_ms': 5, 'retries': 0}, "
			  "'a" X10 X10 X10 X10 X10 "123456789012': {}}, "
			  "'discovery': {'resolve_interval_ms': 100, 'info_interval_ms': 3600000, "
			  "'timeout_ms': 10, 'down_after': 100}"),
		      &cfg, err),
		0, "%s", err);
	cr_expect_eq(cfg.n_nodes, 2);
	cr_expect_eq(cfg.nodes[0].addr.v, 0xc612000b);
	cr_expect_eq(cfg.nodes[0].port, 10053);
	cr_expect_eq(cfg.nodes[1].addr.v, 0x7f000001, "loopback is allowed for a locator");
	cr_expect_eq(cfg.n_apps, 3);
	cr_expect_str_eq(cfg.apps[0].name, "echo");
	cr_expect_eq(cfg.apps[0].deadline_ms, 30000);
	cr_expect_eq(cfg.apps[0].retries, 2);
	cr_expect_str_eq(cfg.apps[1].name, "app@2");
	cr_expect_eq(cfg.apps[1].deadline_ms, 5);
	cr_expect_eq(cfg.apps[1].retries, 0);
	cr_expect_eq(strlen(cfg.apps[2].name), 63);
	cr_expect_eq(cfg.discovery.resolve_interval_ms, 100);
	cr_expect_eq(cfg.discovery.info_interval_ms, 3600000);
	cr_expect_eq(cfg.discovery.timeout_ms, 10);
	cr_expect_eq(cfg.discovery.down_after, 100);
	sl_config_free(&cfg);
	/* 64 characters: one too many */
	cr_expect_eq(parse(CFG(", 'apps': {'a" X10 X10 X10 X10 X10 X10 "123': {}}"), &cfg, err),
		     -EINVAL);
	cr_expect_str_eq(err,
			 "apps.a" X10 X10 X10 X10 X10 X10 "123: an app name must be 1 to 63 "
			 "characters from [A-Za-z0-9_.@-]: \"a" X10 X10 X10 X10 X10 X10 "123\"");
}

Test(config, routes_dispatch)
{
	static char json[8192];
	struct sl_config cfg;
	char err[ERRLEN] = "";
	int o;

	cr_assert_eq(parse(CFG(), &cfg, err), 0, "%s", err);
	cr_expect_eq(cfg.n_routes, 0);
	cr_expect_not(cfg.dispatch.node_header);
	cr_expect_str_eq(cfg.dispatch.access_log, "");
	sl_config_free(&cfg);
	/* routes may come before apps; hosts are kept in lower case */
	cr_assert_eq(parse(CFG(", 'routes': [{'prefix': '/echo/', 'app': 'echo', 'event': 'http'}, "
			       "{'host': 'API.Example.com', 'prefix': '/', 'app': 'b@2', "
			       "'event': 'a.b-c_d@e'}, {'host': '', 'prefix': '/', 'app': 'echo', "
			       "'event': 'x'}], "
			       "'apps': {'b@2': {}, 'echo': {}}, "
			       "'dispatch': {'node_header': true, 'access_log': '/run/x/a.log'}"),
			   &cfg, err),
		     0, "%s", err);
	cr_assert_eq(cfg.n_routes, 3);
	cr_expect_str_eq(cfg.routes[0].host, "");
	cr_expect_str_eq(cfg.routes[0].prefix, "/echo/");
	cr_expect_str_eq(cfg.routes[0].app_name, "echo");
	cr_expect_eq(cfg.routes[0].app, 1);
	cr_expect_str_eq(cfg.routes[0].event, "http");
	cr_expect_str_eq(cfg.routes[1].host, "api.example.com");
	cr_expect_eq(cfg.routes[1].app, 0);
	cr_expect_str_eq(cfg.routes[1].event, "a.b-c_d@e");
	cr_expect_str_eq(cfg.routes[2].prefix, "/");
	cr_expect(cfg.dispatch.node_header);
	cr_expect_str_eq(cfg.dispatch.access_log, "/run/x/a.log");
	sl_config_free(&cfg);
	cr_assert_eq(parse(CFG(", 'dispatch': {'access_log': ''}"), &cfg, err), 0, "%s", err);
	sl_config_free(&cfg);

	/* 32 routes are fine, 33 are not */
	for (int n = 32; n <= 33; n++) {
		o = snprintf(json, sizeof(json),
			     "{'ports': [" PORT() "], 'apps': {'a': {}}, "
						  "'routes': [");
		for (int i = 0; i < n; i++)
			o += snprintf(json + o, sizeof(json) - (size_t)o,
				      "%s{'prefix': '/%d', 'app': 'a', 'event': 'e'}",
				      i ? ", " : "", i);
		snprintf(json + o, sizeof(json) - (size_t)o, "]}");
		if (n == 32) {
			cr_assert_eq(parse(json, &cfg, err), 0, "%s", err);
			cr_expect_eq(cfg.n_routes, 32);
			cr_expect_str_eq(cfg.routes[31].prefix, "/31");
		} else {
			cr_expect_eq(parse(json, &cfg, err), -EINVAL);
			cr_expect_str_eq(err, "routes: at most 32 entries");
		}
		sl_config_free(&cfg);
	}
}

Test(config, every_field)
{
	struct sl_config cfg;
	char err[ERRLEN] = "";
	const struct sl_cfg_port *p;

	cr_assert_eq(
		parse("{'eal': {'args': ['--no-huge', '-m', '512', '--in-memory'], 'lcores': "
		      "'0@0,(1-2)@(1-2)', 'file_prefix': 'x.y-z_1'},"
		      " 'workers': 64,"
		      " 'ports': [{'name': 'A-b_9', 'vdev': 'net_ring0', 'address': "
		      "'10.0.0.1/31', 'gateway': '10.0.0.0', 'mtu': 9000, 'mac': "
		      "'02:Ab:cD:00:ff:10', 'routes': [{'dst': '192.0.2.0/24', 'via': "
		      "'10.0.0.0'}]}],"
		      " 'control': {'socket': '/tmp/s.sock'},"
		      " 'dataplane': {'mbufs_per_port': 1048576, 'rx_desc': 64, 'tx_desc': "
		      "4096, 'burst': 256, 'tx_drain_us': 10000, 'idle_spin_us': 0, "
		      "'idle_sleep_us': 1000},"
		      " 'neighbour': {'reachable_ms': 86400000, 'retry_ms': 10, 'max_tries': 20},"
		      " 'log': {'level': 'debug', 'syslog': true}}",
		      &cfg, err),
		0, "%s", err);
	cr_assert_eq(cfg.eal_argc, 4);
	cr_expect_str_eq(cfg.eal_argv[3], "--in-memory");
	cr_expect_str_eq(cfg.lcores, "0@0,(1-2)@(1-2)");
	cr_expect_str_eq(cfg.file_prefix, "x.y-z_1");
	cr_expect_eq(cfg.workers, 64);
	p = &cfg.ports[0];
	cr_expect_str_eq(p->name, "A-b_9");
	cr_expect_eq(p->addr.v, 0x0a000001u);
	cr_expect_eq(p->prefix_len, 31);
	cr_expect_eq(p->gateway.v, 0x0a000000u, "a /31 has no network address");
	cr_expect_eq(p->mtu, 9000);
	cr_assert(p->has_mac);
	cr_expect_arr_eq(p->mac.b, ((uint8_t[]){0x02, 0xab, 0xcd, 0x00, 0xff, 0x10}), 6);
	cr_assert_eq(p->routes.n, 2);
	cr_expect_eq(p->routes.r[0].dst.v, 0xc0000200u);
	cr_expect_eq(p->routes.r[0].prefix_len, 24);
	cr_expect_eq(p->routes.r[0].gateway.v, 0x0a000000u);
	cr_expect_eq(p->routes.r[1].dst.v, 0);
	cr_expect_eq(p->routes.r[1].prefix_len, 0, "the default route comes last");
	cr_expect_eq(p->routes.r[1].gateway.v, 0x0a000000u);
	cr_expect_str_eq(cfg.control.socket, "/tmp/s.sock");
	cr_expect_eq(cfg.dataplane.mbufs_per_port, 1048576);
	cr_expect_eq(cfg.dataplane.rx_desc, 64);
	cr_expect_eq(cfg.dataplane.tx_desc, 4096);
	cr_expect_eq(cfg.dataplane.burst, 256);
	cr_expect_eq(cfg.dataplane.tx_drain_us, 10000);
	cr_expect_eq(cfg.dataplane.idle_spin_us, 0);
	cr_expect_eq(cfg.dataplane.idle_sleep_us, 1000);
	cr_expect_eq(cfg.neigh.reachable_us, 86400000000ull);
	cr_expect_eq(cfg.neigh.retry_us, 10000ull);
	cr_expect_eq(cfg.neigh.max_tries, 20);
	cr_expect_eq(cfg.log.level, SL_LOG_DEBUG);
	cr_expect(cfg.log.syslog);
	sl_config_free(&cfg);
}

Test(config, explicit_default_route_without_gateway)
{
	struct sl_config cfg;
	char err[ERRLEN] = "";

	cr_assert_eq(parse(ROUTES("{'dst': '0.0.0.0/0', 'via': '198.18.0.1'}"), &cfg, err), 0, "%s",
		     err);
	cr_expect_eq(cfg.ports[0].routes.n, 1);
	cr_expect_eq(cfg.ports[0].routes.r[0].gateway.v, 0xc6120001u);
	sl_config_free(&cfg);
}

/* Build a port with n routes 10.<i>.0.0/16 via 198.18.0.1, with or without a gateway. */
static char *
routes_config(unsigned int n, bool gateway)
{
	size_t cap = 256 + n * 64, off;
	char *s = malloc(cap);

	cr_assert_not_null(s);
	off = (size_t)snprintf(
		s, cap,
		"{\"ports\": [{\"name\": \"p\", \"vdev\": \"net_tap0\", \"address\": "
		"\"198.18.0.2/24\"%s, \"routes\": [",
		gateway ? ", \"gateway\": \"198.18.0.1\"" : "");
	for (unsigned int i = 0; i < n; i++)
		off += (size_t)snprintf(s + off, cap - off,
					"%s{\"dst\": \"10.%u.0.0/16\", \"via\": \"198.18.0.1\"}",
					i > 0 ? ", " : "", i);
	snprintf(s + off, cap - off, "]}]}");
	return s;
}

Test(config, routes_limit)
{
	struct sl_config cfg;
	char err[ERRLEN] = "";
	char *s;

	s = routes_config(SL_ROUTES_MAX, false);
	cr_expect_eq(sl_config_parse(s, strlen(s), &cfg, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(cfg.ports[0].routes.n, SL_ROUTES_MAX);
	sl_config_free(&cfg);
	free(s);

	s = routes_config(SL_ROUTES_MAX - 1, true);
	cr_expect_eq(sl_config_parse(s, strlen(s), &cfg, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(cfg.ports[0].routes.n, SL_ROUTES_MAX);
	cr_expect_eq(cfg.ports[0].routes.r[SL_ROUTES_MAX - 1].prefix_len, 0);
	sl_config_free(&cfg);
	free(s);

	s = routes_config(SL_ROUTES_MAX, true);
	cr_expect_eq(sl_config_parse(s, strlen(s), &cfg, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err,
			 "ports[0].routes: at most 31 entries when a gateway is set (32 routes "
			 "in all)");
	free(s);
}

Test(config, max_ports_and_eal_args)
{
	struct sl_config cfg;
	char err[ERRLEN] = "";

	cr_assert_eq(parse("{'eal': {'args': [" ARGS8 ", " ARGS8 ", " ARGS8 ", " ARGS8 ", " ARGS8
			   ", " ARGS8 "]}, 'ports': ["
			   "{'name': 'p0', 'vdev': 'net_tap0', 'address': '10.0.0.1/24'},"
			   "{'name': 'p1', 'vdev': 'net_tap1', 'address': '10.0.1.1/24'},"
			   "{'name': 'p2', 'vdev': 'net_tap2', 'address': '10.0.2.1/24'},"
			   "{'name': 'p3', 'vdev': 'net_tap3', 'address': '10.0.3.1/24'},"
			   "{'name': 'p4', 'vdev': 'net_tap4', 'address': '10.0.4.1/24'},"
			   "{'name': 'p5', 'vdev': 'net_tap5', 'address': '10.0.5.1/24'},"
			   "{'name': 'p6', 'vdev': 'net_tap6', 'address': '10.0.6.1/24'},"
			   "{'name': 'p7', 'vdev': 'net_tap7', 'address': '10.0.7.1/24'}]}",
			   &cfg, err),
		     0, "%s", err);
	cr_expect_eq(cfg.eal_argc, SL_CFG_MAX_EAL_ARGS - 16);
	cr_expect_eq(cfg.n_ports, SL_CFG_MAX_PORTS);
	cr_expect_str_eq(cfg.ports[7].name, "p7");
	sl_config_free(&cfg);
}

Test(config, eal_args_freed_on_later_error)
{
	struct sl_config cfg;
	char err[ERRLEN] = "";

	/* eal.args are copied before the error: the parser must free them (ASan checks) */
	cr_assert_eq(
		parse("{'eal': {'args': ['--no-huge', '-m', '256']}, 'workers': 0}", &cfg, err),
		-EINVAL);
	cr_expect_str_eq(err, "workers: must be an integer from 1 to 64");
	cr_expect_eq(cfg.eal_argc, 0);
	cr_expect_null(cfg.eal_argv[0]);
}

Test(config, text_need_not_be_terminated)
{
	static const char text[] = "{\"ports\": [{\"name\": \"a\", \"vdev\": \"net_tap0\", "
				   "\"address\": \"198.18.0.2/24\"}]}garbage";
	struct sl_config cfg;
	char err[ERRLEN] = "";

	cr_assert_eq(
		sl_config_parse(text, strlen(text) - strlen("garbage"), &cfg, err, sizeof(err)), 0,
		"%s", err);
	sl_config_free(&cfg);
}

Test(config, free_is_idempotent)
{
	struct sl_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	sl_config_free(&cfg);
	sl_config_free(&cfg);
}

Test(config, long_value_quoted_and_cut)
{
	struct sl_config cfg;
	char err[ERRLEN] = "";

	cr_assert_eq(parse(CFG(", 'eal': {'lcores': '" X100 "'}"), &cfg, err), -EINVAL);
	cr_expect_str_eq(err, "eal.lcores: must be a non-empty string of 0-9 @ , ( ) -: \"" X10 X10
				      X10 X10 X10 X10 X10 "xxxx\"...");
}

Test(config, small_error_buffer)
{
	struct sl_config cfg;
	char err[8];

	static const char text[] = "{\"workers\": 0}";

	cr_assert_eq(sl_config_parse(text, strlen(text), &cfg, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "workers");
	cr_assert_eq(sl_config_parse("{", 1, &cfg, NULL, 0), -EINVAL);
}

/*
 * Loading files
 */

static char *
write_temp(const char *content, size_t len)
{
	char *path = strdup("/tmp/sl-test-config-XXXXXX");
	int fd;

	cr_assert_not_null(path);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

Test(config_load, missing_file)
{
	struct sl_config cfg;
	char err[ERRLEN] = "";

	cr_expect_eq(sl_config_load("/nonexistent/sluiced.json", &cfg, err, sizeof(err)), -ENOENT);
	cr_expect_str_eq(err, "/nonexistent/sluiced.json: No such file or directory");
	cr_expect_eq(cfg.n_ports, 0);
}

Test(config_load, directory)
{
	struct sl_config cfg;
	char err[ERRLEN] = "";

	cr_expect_eq(sl_config_load("/tmp", &cfg, err, sizeof(err)), -EISDIR);
	cr_expect_str_eq(err, "/tmp: Is a directory");
}

Test(config_load, huge_file_refused)
{
	const size_t size = 1024 * 1024 + 1;
	struct sl_config cfg;
	char err[ERRLEN] = "";
	char *text, *path;

	/* a valid config padded with spaces to one byte over the limit */
	text = malloc(size);
	cr_assert_not_null(text);
	memset(text, ' ', size);
	memcpy(text,
	       "{\"ports\": [{\"name\": \"a\", \"vdev\": \"net_tap0\", \"address\": "
	       "\"198.18.0.2/24\"}]}",
	       strlen("{\"ports\": [{\"name\": \"a\", \"vdev\": \"net_tap0\", \"address\": "
		      "\"198.18.0.2/24\"}]}"));
	path = write_temp(text, size);
	cr_expect_eq(sl_config_load(path, &cfg, err, sizeof(err)), -EFBIG);
	{
		char want[ERRLEN];

		snprintf(want, sizeof(want), "%s: file too large (1048577 bytes, at most 1048576)",
			 path);
		cr_expect_str_eq(err, want);
	}
	/* exactly the limit is fine */
	cr_assert_eq(truncate(path, (off_t)(size - 1)), 0);
	cr_expect_eq(sl_config_load(path, &cfg, err, sizeof(err)), 0, "%s", err);
	sl_config_free(&cfg);
	unlink(path);
	free(path);
	free(text);
}

Test(config_load, endless_device_refused)
{
	struct sl_config cfg;
	char err[ERRLEN] = "";

	cr_expect_eq(sl_config_load("/dev/zero", &cfg, err, sizeof(err)), -EFBIG);
	cr_expect_str_eq(err, "/dev/zero: file too large (more than 1048576 bytes)");
}

Test(config_load, errors_name_the_file)
{
	static const char bad_syntax[] = "{\n\"workers\": 1,\n}\n";
	static const char bad_value[] = "{\"workers\": 0}";
	struct sl_config cfg;
	char err[ERRLEN] = "", want[ERRLEN];
	char *path;

	path = write_temp(bad_syntax, strlen(bad_syntax));
	cr_expect_eq(sl_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:3:1: string or '}' expected near '}'", path);
	cr_expect_str_eq(err, want);
	unlink(path);
	free(path);

	path = write_temp(bad_value, strlen(bad_value));
	cr_expect_eq(sl_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: workers: must be an integer from 1 to 64", path);
	cr_expect_str_eq(err, want);
	unlink(path);
	free(path);
}

Test(config, listeners_tcp_limits)
{
	struct sl_config cfg;
	char err[ERRLEN] = "";

	cr_assert_eq(
		parse(CFG(", 'listeners': [{'address': '198.18.0.2:7', 'protocol': 'echo'},"
			  " {'address': '198.18.0.2:19', 'protocol': 'chargen', 'backlog': 8}],"
			  " 'tcp': {'time_wait_ms': 0, 'rcv_buf': 65536, 'mss': 1400},"
			  " 'limits': {'connections_per_worker': 1000}"),
		      &cfg, err),
		0, "%s", err);
	cr_expect_eq(cfg.n_listeners, 2);
	cr_expect_eq(cfg.listeners[0].addr.v, 0xc6120002u);
	cr_expect_eq(cfg.listeners[0].port, 7);
	cr_expect_eq(cfg.listeners[0].protocol, SL_PROTO_ECHO);
	cr_expect_eq(cfg.listeners[0].backlog, 1024);
	cr_expect_eq(cfg.listeners[1].protocol, SL_PROTO_CHARGEN);
	cr_expect_eq(cfg.listeners[1].backlog, 8);
	cr_expect_eq(cfg.tcp.time_wait_us, 0);
	cr_expect_eq(cfg.tcp.rcv_buf, 65536);
	cr_expect_eq(cfg.tcp.mss, 1400);
	cr_expect_eq(cfg.tcp.rto_min_us, 200000);
	cr_expect_eq(cfg.tcp.delack_us, 40000);
	cr_expect_eq(cfg.limits.connections_per_worker, 1000);
	sl_config_free(&cfg);
}

Test(config, http_listener_and_limits)
{
	struct sl_config cfg;
	char err[ERRLEN] = "";

	cr_assert_eq(
		parse(CFG(", 'listeners': [{'address': '198.18.0.2:80', 'protocol': 'http',"
			  " 'health': true, 'mirror': false}],"
			  " 'limits': {'connections_per_worker': 1000, 'header_bytes': 4096,"
			  " 'header_fields': 20, 'uri_bytes': 100, 'body_bytes': 1099511627776,"
			  " 'chunk_line_bytes': 64, 'header_timeout_ms': 1000,"
			  " 'body_timeout_ms': 2000, 'keepalive_ms': 3000,"
			  " 'http_connections_per_worker': 500, 'drain_timeout_ms': 100}"),
		      &cfg, err),
		0, "%s", err);
	cr_expect_eq(cfg.listeners[0].protocol, SL_PROTO_HTTP);
	cr_expect(cfg.listeners[0].health);
	cr_expect_not(cfg.listeners[0].mirror);
	cr_expect_eq(cfg.limits.header_bytes, 4096);
	cr_expect_eq(cfg.limits.header_fields, 20);
	cr_expect_eq(cfg.limits.uri_bytes, 100);
	cr_expect_eq(cfg.limits.body_bytes, 1099511627776ull);
	cr_expect_eq(cfg.limits.chunk_line_bytes, 64);
	cr_expect_eq(cfg.limits.header_timeout_ms, 1000);
	cr_expect_eq(cfg.limits.body_timeout_ms, 2000);
	cr_expect_eq(cfg.limits.keepalive_ms, 3000);
	cr_expect_eq(cfg.limits.http_connections, 500);
	cr_expect_eq(cfg.limits.drain_timeout_ms, 100);
	sl_config_free(&cfg);

	cr_assert_eq(parse(CFG(", 'limits': {'drain_timeout_ms': 600000}"), &cfg, err), 0, "%s",
		     err);
	cr_expect_eq(cfg.limits.drain_timeout_ms, 600000);
	sl_config_free(&cfg);

	/* defaults; the HTTP connection limit follows connections_per_worker */
	cr_assert_eq(parse(CFG(", 'limits': {'connections_per_worker': 1000}"), &cfg, err), 0, "%s",
		     err);
	cr_expect_eq(cfg.limits.header_bytes, 16384);
	cr_expect_eq(cfg.limits.header_fields, 100);
	cr_expect_eq(cfg.limits.uri_bytes, 8192);
	cr_expect_eq(cfg.limits.body_bytes, 16777216);
	cr_expect_eq(cfg.limits.chunk_line_bytes, 4096);
	cr_expect_eq(cfg.limits.header_timeout_ms, 10000);
	cr_expect_eq(cfg.limits.body_timeout_ms, 10000);
	cr_expect_eq(cfg.limits.keepalive_ms, 60000);
	cr_expect_eq(cfg.limits.http_connections, 1000);
	cr_expect_eq(cfg.limits.drain_timeout_ms, 30000);
	sl_config_free(&cfg);
}

Test(config, impair)
{
	struct sl_config cfg;
	char err[ERRLEN] = "";

	cr_assert_eq(parse(PORTS(PORT(", 'impair': {'rx': {'loss_pct': 1, 'delay_ms': 20, "
				      "'jitter_ms': 5}, 'tx': {'reorder_pct': 0.5}}")),
			   &cfg, err),
		     0, "%s", err);
	cr_expect(cfg.ports[0].impair_rx.enabled);
	cr_expect_eq(cfg.ports[0].impair_rx.loss, sl_impair_pct(1));
	cr_expect_eq(cfg.ports[0].impair_rx.delay_us, 20000);
	cr_expect_eq(cfg.ports[0].impair_rx.jitter_us, 5000);
	cr_expect(cfg.ports[0].impair_tx.enabled);
	cr_expect_eq(cfg.ports[0].impair_tx.reorder, sl_impair_pct(0.5));
	cr_expect_eq(cfg.ports[0].impair_tx.loss, 0);
	sl_config_free(&cfg);
	cr_assert_eq(parse(PORTS(PORT("")), &cfg, err), 0, "%s", err);
	cr_expect(!cfg.ports[0].impair_rx.enabled && !cfg.ports[0].impair_tx.enabled);
	sl_config_free(&cfg);
}

Test(config, tcp_recovery_and_keepalive)
{
	struct sl_config cfg;
	char err[ERRLEN] = "";

	cr_assert_eq(parse(CFG(", 'tcp': {'no_sack': true, 'keepalive_idle_ms': 5000, "
			       "'keepalive_intvl_ms': 1000, 'keepalive_probes': 3, "
			       "'ooo_max_bytes': 65536}"),
			   &cfg, err),
		     0, "%s", err);
	cr_expect(cfg.tcp.no_sack);
	cr_expect(!cfg.tcp.no_timestamps);
	cr_expect_eq(cfg.tcp.keepalive_idle_us, 5000000);
	cr_expect_eq(cfg.tcp.keepalive_intvl_us, 1000000);
	cr_expect_eq(cfg.tcp.keepalive_probes, 3);
	cr_expect_eq(cfg.tcp.ooo_max_bytes, 65536);
	sl_config_free(&cfg);
	cr_expect_eq(parse(CFG(", 'tcp': {'keepalive_probes': 0}"), &cfg, err), -EINVAL);
	cr_expect_str_eq(err, "tcp.keepalive_probes: must be an integer from 1 to 30");
}
