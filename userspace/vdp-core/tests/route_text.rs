//! Route handler text: batched entries, Click's remove forms, and the table and lookup replies.

use vdp_core::click_value::ValueError;
use vdp_core::lpm::{Prefix, Route};
use vdp_core::route_text::{entries, parse_add, parse_remove, LookupAnswer, TableLine};
use vdp_core::wire::Ipv4Address;

fn addr(text: &str) -> Ipv4Address {
    Ipv4Address(vdp_core::click_value::parse_ipv4(text).unwrap())
}

fn prefix(text: &str, len: u8) -> Prefix {
    Prefix::new(addr(text), len).unwrap()
}

#[test]
fn batches_split_on_lines_and_commas() {
    let text = "10.0.0.0/8 1\n\n  10.1.0.0/16 10.0.0.1 2 , 0.0.0.0/0 0\n";
    let got: Vec<_> = entries(text).collect();
    assert_eq!(got, ["10.0.0.0/8 1", "10.1.0.0/16 10.0.0.1 2", "0.0.0.0/0 0"]);
    assert_eq!(entries(" \n,\n").count(), 0);
}

#[test]
fn add_entries() {
    let (p, r) = parse_add("10.1.2.3/8 1", 2).unwrap();
    assert_eq!(p, prefix("10.0.0.0", 8), "host bits are cleared");
    assert_eq!(r, Route { gateway: None, port: 1 });
    let (_, r) = parse_add("10.0.0.0/255.255.0.0 192.168.1.1 0", 2).unwrap();
    assert_eq!(r.gateway, Some(addr("192.168.1.1")));
    assert_eq!(parse_add("10.0.0.0/8 2", 2), Err(ValueError::NotPort), "port beyond the outputs");
    assert!(parse_add("10.0.0.0/33 0", 2).is_err());
    assert!(parse_add("10.0.0.0/8", 2).is_err());
    assert!(parse_add("10.0.0.0/8 1.2.3.4 0 extra", 2).is_err());
    assert_eq!(parse_add("10.0.0.0/8 0", 0), Err(ValueError::NotPort));
}

#[test]
fn remove_entries_name_what_must_agree() {
    let only = parse_remove("10.0.0.0/8").unwrap();
    assert_eq!((only.gateway, only.port), (None, None));
    let with_port = parse_remove("10.0.0.0/8 3").unwrap();
    assert_eq!(with_port.port, Some(3));
    let with_gateway = parse_remove("10.0.0.0/8 10.0.0.1").unwrap();
    assert_eq!(with_gateway.gateway, Some(addr("10.0.0.1")));
    let both = parse_remove("10.0.0.0/8 10.0.0.1 1").unwrap();
    assert!(both.matches(&Route { gateway: Some(addr("10.0.0.1")), port: 1 }));
    assert!(!both.matches(&Route { gateway: Some(addr("10.0.0.1")), port: 2 }));
    assert!(!both.matches(&Route { gateway: None, port: 1 }));
    assert!(only.matches(&Route { gateway: None, port: 7 }));
    assert!(parse_remove("").is_err());
    assert!(parse_remove("10.0.0.0/8 1.2.3.4 1 2").is_err());
    assert!(parse_remove("10.0.0.0/8 port").is_err());
}

#[test]
fn replies_in_clicks_layout() {
    let line = TableLine(prefix("10.0.0.0", 8), Route { gateway: None, port: 1 }).to_string();
    assert_eq!(line, "10.0.0.0/8\t-\t1\n");
    let line = TableLine(prefix("0.0.0.0", 0), Route { gateway: Some(addr("1.2.3.4")), port: 0 }).to_string();
    assert_eq!(line, "0.0.0.0/0\t1.2.3.4\t0\n");
    assert_eq!(LookupAnswer(None).to_string(), "-1");
    assert_eq!(LookupAnswer(Some(Route { gateway: None, port: 2 })).to_string(), "2");
    assert_eq!(LookupAnswer(Some(Route { gateway: Some(addr("10.0.0.1")), port: 1 })).to_string(), "1 10.0.0.1");
}
