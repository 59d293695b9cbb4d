//! Errors do not cascade: each broken configuration here has one mistake, and the front end
//! reports exactly that one, at its place, and nothing that follows from it (an element whose
//! declaration failed is not also undeclared or unconnected, a port lost to a parse error is not
//! unconnected, a variable a broken `define` meant is not undefined, ...).

use vdp_click::check::CheckOptions;
use vdp_click::source::{Diagnostics, Sources};

/// `(configuration, "line:col", what the error says)`.
const BROKEN: &[(&str, &str, &str)] = &[
    // Lexical errors.
    ("src :: InfiniteSource -> c :: Counter( -> Discard;", "1:38", "unbalanced '('"),
    ("x :: Counter(; Idle -> x -> Discard", "1:13", "unbalanced '('"),
    ("Idle -> c :: Counter; /* c -> Discard;\nc -> Discard;", "1:23", "unterminated comment"),
    ("Idle -> Print(\"abc) -> Discard;", "1:15", "unterminated quoted string"),
    ("Idle -> c :: Counter %% -> Discard;", "1:22", "unexpected characters \"%%\""),
    ("Idle -> c :: Counter -> Discard; c2 :: Counter # -> Discard; Idle -> c2;", "1:48", "unexpected character '#'"),
    ("Idle => Discard;", "1:6", "'=>'"),
    ("Idle -> $ -> Discard;", "1:9", "'$' must be followed"),
    ("a :: Counter; Idle -> a -> Discard); b :: Counter; Idle -> b -> Discard;", "1:35", "unbalanced ')'"),
    // A declaration that fails: the name is not undeclared later, nor unconnected.
    ("src :: InfiniteSource -> c :: -> Discard; c -> Discard;", "1:31", "expected an element class after '::'"),
    ("a :: Counter\nb :: ;\nIdle -> a -> b -> Discard;", "2:6", "expected an element class after '::'"),
    ("a, b :: ;\nIdle -> a -> b -> Discard;", "1:9", "expected an element class after '::'"),
    ("a, -> b :: Counter;\nIdle -> a -> b -> Discard;", "1:4", "expected an element name in a declaration list"),
    // A name used undeclared is reported once, and not again when it is declared.
    ("Idle -> c :: Counter -> d; Idle -> Discard", "1:25", "undeclared element 'd'"),
    ("Idle -> x; x -> Discard; Idle -> x;", "1:9", "undeclared element 'x'"),
    ("Idle -> x; x :: Counter; x -> Discard;", "1:9", "undeclared element 'x'"),
    // Connections lost to a failed statement are not unconnected ports.
    ("src :: InfiniteSource; src -> q :: Queue(5) -> [x] Discard;", "1:49", "expected a port number"),
    ("Idle [0 -> Discard;", "1:6", "expected ']' after port number"),
    ("Idle [70000] -> Discard;", "1:7", "port number 70000 is too large"),
    ("c :: Counter; Idle -> c; [0] c -> Discard;", "1:26", "a connection cannot start with an input port"),
    ("Idle -> c :: Counter -> ] Discard; c -> Discard;", "1:25", "expected an element, found ']'"),
    ("Idle -> { input -> output } -> Discard;", "1:9", "anonymous compound classes"),
    ("c :: Tee; Idle -> c(2) -> Discard; c[1] -> Discard;", "1:21", "'c' is an element, not a class"),
    // Without semicolons, the failed statement ends where the next must start.
    ("Idle -> c :: Counter -> d\nc2 :: Counter\nIdle -> c2 -> Discard", "1:25", "undeclared element 'd'"),
    ("Idle -> c :: Counter -> [x] e :: Counter -> Discard\ne2 :: Counter\nIdle -> e2 -> Discard\nc -> e", "1:26", "expected a port number"),
    // A failed statement inside a compound class.
    ("elementclass B { input -> c :: -> output }\nIdle -> B -> Discard;", "1:32", "expected an element class after '::'"),
    ("elementclass B { input -> c :: Counter -> [y] output }\nIdle -> B -> Discard;", "1:44", "expected a port number"),
    // A broken compound class: its instances are not errors too.
    ("elementclass B { $a, | input -> output }\nIdle -> B(1) -> Discard;", "1:22", "expected a formal parameter"),
    ("elementclass Queue { input -> output }\nIdle -> Queue -> Discard;", "1:14", "would hide the built-in class"),
    ("elementclass B { input -> output } ;\nelementclass B { input -> Counter -> output }\nIdle -> B -> Discard;", "2:14", "class 'B' is already defined"),
    ("elementclass B ;\nIdle -> B -> Discard;", "1:16", "expected '{' or a class name"),
    ("elementclass B { input -> c :: Counter -> output\nb :: B; Idle -> b -> Discard;\n", "3:1", "missing '}'"),
    // Compound arguments and variables.
    ("elementclass B { $n | input -> Queue($n) -> Unqueue -> output }\nIdle -> B -> Discard;", "2:9", "compound 'B' takes 1 argument, but 0 were given"),
    ("elementclass B { input -> Queue($n) -> Unqueue -> output }\nIdle -> B -> Discard; Idle -> B -> Discard;", "1:33", "undefined variable '$n'"),
    ("Idle -> Queue($CAP) -> Discard;", "1:15", "undefined variable '$CAP'"),
    ("define(CAP 5)\nIdle -> Queue($CAP) -> Discard;", "1:8", "define takes '$NAME value' arguments"),
    ("elementclass B { $n | input -> Queue($n) -> Unqueue -> output }\nIdle -> B($X) -> Discard;", "2:11", "undefined variable '$X'"),
    // Paths through compound ports.
    ("elementclass B { input -> c :: Counter -> output }\nb :: B; Idle -> b;", "1:40", "output 0 of 'b' is not connected"),
    ("elementclass B { input -> c :: Counter -> output }\nb :: B; Idle -> [1] b; Idle -> b -> Discard;", "2:14", "input 1 leads nowhere"),
    // A clash of names: which declaration the connections meant is unknown.
    ("y :: Counter; y :: Tee(2);\nIdle -> y; y[0] -> Discard; y[1] -> Discard;", "1:15", "element 'y' is already declared"),
    // Checker rules: an unknown class is not also a non-task, a bad argument not also bad ports.
    ("x :: Qeue; Idle -> x -> Discard; StaticThreadSched(x 1);", "1:6", "unknown element class 'Qeue'"),
    ("Idle -> IPsecESPEncap -> Discard;", "1:9", "is a Click class vdp does not support"),
    ("t :: Tee(lots); Idle -> t; t[0] -> Discard; t[1] -> Discard;", "1:10", "bad Tee argument"),
    ("Idle -> c :: Classifier(12/08zz, -); c[0] -> Discard; c[1] -> Discard;", "1:25", "bad Classifier pattern"),
    ("Idle -> rt :: LinearIPLookup(10.0.0.0/8 x, 0.0.0.0/0 1); rt[0] -> Discard; rt[1] -> Discard;", "1:30", "bad LinearIPLookup"),
    // A statement with a stray character is that one mistake.
    ("Idle -> Queue500) -> Discard;", "1:17", "unbalanced ')'"),
    ("Idle -> c :: Cou#nter -> Discard;", "1:17", "unexpected character '#'"),
    ("Idle -> c :: Counter -> Discard $ -> Discard;\nIdle -> Discard;", "1:33", "'$' must be followed"),
    // Statements glued on one line: a word that cannot start a statement belongs to the one
    // before (a line of prose whose '//' is lost, a port without its brackets).
    ("This router counts packets\nIdle -> Discard;", "1:6", "undeclared element 'router'"),
    ("c :: Tee; Idle -> c; c 1] -> Discard; c[0] -> Discard;", "1:24", "undeclared element '1'"),
    // An output port at the end of a chain connects to nothing.
    ("c :: Tee; Idle -> c; c [1] Discard; c [0] -> Discard;", "1:26", "output [1] of 'c' connects to nothing"),
    // A missing '->' between two elements written one after the other is one error.
    ("Idle -> a :: Counter\n  b :: Counter -> Discard;", "1:9", "output 0 of 'a' (Counter) is not connected, nor is input 0 of 'b' (Counter)"),
    ("elementclass B { input -> a :: Counter b :: Counter -> output }\nIdle -> B -> Discard; Idle -> B -> Discard;", "1:27", "nor is input 0 of"),
    // A missing comma: the argument that swallowed the next one is the error.
    ("Idle -> EtherEncap(0x0800 1:2:3:4:5:6, 0:0:0:0:0:1) -> Discard;", "1:20", "bad EtherEncap argument ETHERTYPE"),
    ("elementclass B { $a, $b | input -> Queue($a) -> Unqueue -> Paint($b) -> output }\nIdle -> B(5 1) -> Discard;", "2:11", "compound 'B' takes 2 arguments, but 1 were given"),
    // Keywords and names lost or misplaced.
    ("define $X 5\nIdle -> Queue($X) -> Discard;", "1:1", "'define' takes its arguments in parentheses"),
    ("($X 5)\nIdle -> Queue($X) -> Discard;", "1:2", "expected an element, found a configuration string"),
    ("Box { input -> Counter -> output }\nIdle -> Box -> Discard;", "1:5", "a compound class is written 'elementclass Box"),
    ("elementclass { input -> Counter -> output }\nIdle -> Box -> Discard;", "1:14", "expected a class name after 'elementclass'"),
    ("elementclass B $n | input -> Queue($n) -> Unqueue -> output }\nIdle -> B(5) -> Discard;", "1:16", "expected '{' or a class name after 'elementclass B'"),
    ("elementclass B { | input -> output }\nIdle -> B(1) -> Discard;", "1:18", "expected a formal parameter"),
    ("elementclass B { -> Counter -> output }\nIdle -> B -> Discard;", "1:18", "expected an element, found '->'"),
    ("src :: InfiniteSource -> :: Counter -> Discard;\nc -> Discard;", "1:26", "expected an element name before '::'"),
    // A mistake inside a compound class is reported once, not once per instance.
    ("elementclass B { input -> Qeue -> output }\nIdle -> B -> Discard; Idle -> B -> Discard;", "1:27", "unknown element class 'Qeue'"),
    ("elementclass B { input -> Queue(lots) -> Unqueue -> output }\nIdle -> B -> Discard; Idle -> B -> Discard;", "1:33", "bad Queue argument"),
    ("elementclass B { input -> t :: Tee(2) -> output }\nIdle -> B -> Discard; Idle -> B -> Discard;", "1:27", "output 1 of"),
    ("elementclass B { $d | input -> Queue -> ToDevice($d BURST 8) }\nIdle -> B(eth1); Idle -> B(eth2);", "1:50", "bad ToDevice argument"),
    ("elementclass P { $n | input -> CheckIPHeader(INTERFACES $n) -> output }\nIdle -> P(x) -> Discard; Idle -> P(x) -> Discard;", "1:46", "no AddressInfo in scope names it"),
];

fn rendered_errors(text: &str) -> Vec<String> {
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    vdp_click::check_text(&mut sources, "t.click", text, &CheckOptions::default(), &mut diagnostics);
    diagnostics.items.iter().filter(|d| d.is_error()).map(|d| sources.render(d)).collect()
}

#[test]
fn one_mistake_gives_one_error_at_its_place() {
    let mut wrong = Vec::new();
    for (text, place, what) in BROKEN {
        let errors = rendered_errors(text);
        let first_line = errors.first().map(|e| e.lines().next().unwrap_or("").to_string()).unwrap_or_default();
        let expected = format!("t.click:{place}: error: ");
        if errors.len() != 1 || !first_line.starts_with(&expected) || !first_line.contains(what) {
            wrong.push(format!("{text:?}\n  expected one error at {place} containing {what:?}, got:\n{}", errors.join("")));
        }
    }
    assert!(wrong.is_empty(), "{} of {} configurations:\n{}", wrong.len(), BROKEN.len(), wrong.join("\n"));
}

#[test]
fn the_fixed_configurations_are_valid() {
    // Each mistake, corrected, leaves a valid configuration: the recovery hid no other error.
    let fixed = [
        "src :: InfiniteSource -> c :: Counter -> Discard;",
        "src :: InfiniteSource -> c :: Counter -> Discard;",
        "a :: Counter\nb :: Counter;\nIdle -> a -> b -> Discard;",
        "Idle -> c :: Counter -> d :: Discard; Idle -> Discard",
        "src :: InfiniteSource; src -> q :: Queue(5) -> [0] Discard;",
        "elementclass B { input -> c :: Counter -> output }\nIdle -> B -> Discard;",
        "elementclass B { $n | input -> Queue($n) -> Unqueue -> output }\nIdle -> B(5) -> Discard;",
        "define($CAP 5)\nIdle -> Queue($CAP) -> Discard;",
        "t :: Tee(2); Idle -> t; t[0] -> Discard; t[1] -> Discard;",
    ];
    for text in fixed {
        assert_eq!(rendered_errors(text), Vec::<String>::new(), "{text}");
    }
}

#[test]
fn independent_mistakes_are_each_reported() {
    // Recovery hides consequences, not other mistakes.
    let mut errors = rendered_errors("a :: ;\nIdle -> Qeue -> Discard;\nIdle -> b :: Queue(lots) -> Discard;\nIdle -> c;");
    errors.sort();
    assert_eq!(errors.len(), 4, "{errors:?}");
    for (error, place) in errors.iter().zip(["1:6", "2:9", "3:20", "4:9"]) {
        assert!(error.starts_with(&format!("t.click:{place}: error")), "{error}");
    }
    // A mistake inside a compound, once, says how many instances share it.
    let errors = rendered_errors("elementclass B { input -> Qeue -> output }\nIdle -> B -> Discard; Idle -> B -> Discard; Idle -> B -> Discard;");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("the same holds in 2 other instances of the compound"), "{}", errors[0]);
}
