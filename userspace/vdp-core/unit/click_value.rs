//! Unit tests of `kmod/core/click_value.rs`, kept out of the kernel tree: they may panic, kernel code may not.

extern crate std;

use super::*;
use std::string::String;

#[test]
fn integers() {
    assert_eq!(parse_int("42"), Ok(42));
    assert_eq!(parse_int("-7"), Ok(-7));
    assert_eq!(parse_int("0x0800"), Ok(0x800));
    assert_eq!(parse_int("0b101"), Ok(5));
    assert_eq!(parse_int("-9223372036854775808"), Ok(i64::MIN));
    assert_eq!(parse_int("9223372036854775808"), Err(ValueError::TooLarge));
    assert_eq!(parse_int("99999999999999999999999"), Err(ValueError::TooLarge));
    assert_eq!(parse_int("12a"), Err(ValueError::NotInteger));
    assert_eq!(parse_int("-"), Err(ValueError::NotInteger));
    assert_eq!(parse_int(""), Err(ValueError::Empty));
    assert_eq!(parse_int_in("5", 0, 4), Err(ValueError::OutOfRange { min: 0, max: 4 }));
}

#[test]
fn booleans() {
    assert_eq!(parse_bool("yes"), Ok(true));
    assert_eq!(parse_bool("0"), Ok(false));
    assert_eq!(parse_bool("maybe"), Err(ValueError::NotBool));
}

#[test]
fn addresses() {
    assert_eq!(parse_ipv4("10.0.1.255"), Ok([10, 0, 1, 255]));
    for bad in ["10.0.1", "10.0.1.256", "1.2.3.4.5", "a.b.c.d", "1..2.3", "0001.1.1.1"] {
        assert_eq!(parse_ipv4(bad), Err(ValueError::NotIpv4), "{bad}");
    }
    let prefix = parse_prefix("192.168.1.7/24").unwrap();
    assert_eq!((prefix.len, prefix.network()), (24, 0xc0a80100));
    assert_eq!(parse_prefix("10.0.0.0/255.0.0.0").unwrap().len, 8);
    assert_eq!(parse_prefix("10.0.0.0/255.0.255.0"), Err(ValueError::NonContiguousMask));
    assert_eq!(parse_prefix("10.0.0.0/33"), Err(ValueError::BadPrefixLength));
    assert_eq!(parse_prefix("10.0.0.1").unwrap().len, 32);
    assert_eq!(parse_prefix("0.0.0.0/0").unwrap().mask(), 0);
    assert_eq!(parse_ether("0:1a:2B:3c:4d:ff"), Ok([0, 0x1a, 0x2b, 0x3c, 0x4d, 0xff]));
    assert_eq!(parse_ether("0:1a:2B:3c:4d"), Err(ValueError::NotEther));
    assert_eq!(parse_ether("0:1a:2B:3c:4d:100"), Err(ValueError::NotEther));
}

#[test]
fn times_and_rates() {
    assert_eq!(parse_time_ns("1.5s"), Ok(1_500_000_000));
    assert_eq!(parse_time_ns("10ms"), Ok(10_000_000));
    assert_eq!(parse_time_ns("2"), Ok(2_000_000_000));
    assert_eq!(parse_time_ns("0.0000000001"), Ok(0));
    assert_eq!(parse_time_ns("1.5 s"), Err(ValueError::NotTime));
    assert_eq!(parse_time_ns("."), Err(ValueError::NotTime));
    assert_eq!(parse_bandwidth("10Mbps"), Ok(1_250_000));
    assert_eq!(parse_bandwidth("1.5MBps"), Ok(1_500_000));
    assert_eq!(parse_bandwidth("125000"), Ok(125_000));
    assert_eq!(parse_bandwidth("10Tbps"), Err(ValueError::NotBandwidth));
    assert_eq!(parse_bandwidth("99999999999999999999Gbps"), Err(ValueError::NotBandwidth));
}

#[test]
fn names_protocols_routes() {
    assert!(check_device_name("eth1").is_ok());
    assert!(check_device_name("a/b").is_err());
    assert!(check_device_name("abcdefghijklmnop").is_err());
    assert_eq!(parse_ip_protocol("gre"), Ok(47));
    assert_eq!(parse_ip_protocol("300"), Err(ValueError::NotProtocol));
    let route = parse_route("10.0.0.0/8 10.0.0.1 2", 10).unwrap();
    assert_eq!((route.prefix.len, route.gateway, route.port), (8, Some([10, 0, 0, 1]), 2));
    assert_eq!(parse_route("10.0.0.0/8 1", 10).unwrap().gateway, None);
    assert_eq!(parse_route("10.0.0.0/8", 10), Err(ValueError::NotRoute));
    assert_eq!(parse_route("10.0.0.0/8 11", 10), Err(ValueError::NotPort));
    assert!(is_keyword("MAXLENGTH") && is_keyword("A1_B") && !is_keyword("Ab") && !is_keyword(""));
}

#[test]
fn probabilities_and_fixed_point() {
    assert_eq!(parse_probability("0.02"), Ok(1311));
    assert_eq!(parse_probability(".5"), Ok(32768));
    assert_eq!(parse_probability("1"), Ok(PROBABILITY_ONE));
    assert_eq!(parse_probability("1.000"), Ok(PROBABILITY_ONE));
    assert_eq!(parse_probability("0"), Ok(0));
    assert_eq!(parse_probability("0.0000001"), Ok(0));
    for bad in ["", ".", "1.5", "2", "-0.1", "0.1x", "1e-2", "0..1", "99999999999999999999"] {
        assert_eq!(parse_probability(bad), Err(ValueError::NotProbability), "{bad:?}");
    }
    let fixed = |value: u64, bits: u32| {
        let mut text = String::new();
        write_fixed(&mut text, value, bits).unwrap();
        text
    };
    assert_eq!(fixed(1311, 16), "0.02");
    assert_eq!(fixed(1310, 16), "0.01999");
    assert_eq!(fixed(28160, 10), "27.5");
    assert_eq!(fixed(3 << 10, 10), "3");
    assert_eq!(fixed(0, 16), "0");
    // Every 16-bit fraction reads back as itself.
    for value in 0..=PROBABILITY_ONE {
        assert_eq!(parse_probability(&fixed(u64::from(value), 16)), Ok(value), "{value}");
    }
    let interval = |ns: u64| {
        let mut text = String::new();
        write_interval(&mut text, ns).unwrap();
        text
    };
    assert_eq!(interval(10_000_000), "10ms");
    assert_eq!(interval(250_000), "250us");
    assert_eq!(interval(1_500), "1500ns");
    assert_eq!(interval(0), "0ms");
    assert_eq!(interval(1_500_000_000), "1.500000s");
    assert_eq!(interval(2_000_000_001), "2.000000001s");
}
