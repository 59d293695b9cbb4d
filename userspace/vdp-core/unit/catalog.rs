//! Unit tests of `kmod/core/catalog.rs`, kept out of the kernel tree: they may panic, kernel code may not.

use super::*;

#[test]
fn ids_increase_and_find_their_class() {
    let mut previous = None;
    for class in all_classes() {
        assert!(previous.is_none_or(|id| class.id > id), "{} after id {previous:?}", class.name);
        previous = Some(class.id);
        assert_eq!(class_by_id(class.id).map(|c| c.name), Some(class.name));
        assert_eq!(class_by_name(class.name).map(|c| c.id), Some(class.id));
    }
    assert_eq!(previous.map(|id| id + 1), Some(CLASS_COUNT));
    assert!(class_by_id(CLASS_COUNT).is_none());
    // Ids the registry skips name no class.
    for id in 0..CLASS_COUNT {
        if let Some(class) = class_by_id(id) {
            assert_eq!(class.id, id);
        } else {
            assert!(all_classes().all(|c| c.id != id));
        }
    }
}

#[test]
fn names_are_unique() {
    for a in all_classes() {
        assert_eq!(all_classes().filter(|b| b.name == a.name).count(), 1, "{}", a.name);
    }
}

#[test]
fn processing_codes_are_well_formed() {
    for class in all_classes() {
        let (inputs, outputs) = class.processing.split_once('/').expect(class.name);
        for (side, range) in [(inputs, class.inputs), (outputs, class.outputs)] {
            assert!(side.bytes().all(|b| matches!(b, b'h' | b'l' | b'a')), "{}", class.name);
            assert_eq!(side.is_empty(), range.max == 0, "{} side {side:?}", class.name);
        }
    }
}

#[test]
fn processing_letters_repeat() {
    let dec = class_by_name("DecIPTTL").unwrap();
    assert_eq!(dec.input_processing(0), Processing::Agnostic);
    assert_eq!(dec.output_processing(0), Processing::Agnostic);
    assert_eq!(dec.output_processing(1), Processing::Push);
    assert_eq!(dec.output_processing(7), Processing::Push);
    let queue = class_by_name("Queue").unwrap();
    assert_eq!(queue.input_processing(0), Processing::Push);
    assert_eq!(queue.output_processing(0), Processing::Pull);
}

#[test]
fn keller_costs() {
    for (name, cycles) in
        [("Counter", 700), ("CheckLength", 400), ("HashSwitch", 450), ("RadixIPLookup", 1000)]
    {
        assert_eq!(class_by_name(name).unwrap().cost_cycles, cycles);
    }
}

#[test]
fn schema_references_exist() {
    for class in all_classes() {
        if let OutputRule::IntArgument(name) = class.output_rule {
            assert!(class.arg(name).is_some(), "{}", class.name);
        }
        if let Some(name) = class.cost_argument {
            assert!(class.arg(name).is_some(), "{}", class.name);
        }
        if let Resource::QueueCapacity(name) = class.resource {
            assert!(class.arg(name).is_some(), "{}", class.name);
        }
        if class.output_rule == OutputRule::OnePerRepeatedArgument
            || class.output_rule == OutputRule::CoversRoutes
            || class.resource == Resource::TableEntries
        {
            assert!(class.repeated.is_some(), "{}", class.name);
        }
        let mut seen_keyword_only = false;
        for spec in class.args {
            assert!(spec.keyword.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'));
            assert!(!(spec.required && spec.default.is_some()), "{}", class.name);
            if spec.mode == ArgMode::KeywordOnly {
                seen_keyword_only = true;
            } else {
                assert!(!seen_keyword_only, "{}: positional after keyword-only", class.name);
            }
        }
    }
}

static CUSTOM: [ElementClass; 2] = [
    ElementClass { id: CUSTOM_CLASS_BASE, ..base("Sampler", "a custom class") },
    ElementClass { id: CUSTOM_CLASS_BASE + 1, ..base("Marker", "another") },
];
static WRONG_ID: [ElementClass; 1] = [ElementClass { id: 7, ..base("Sampler", "a custom class") }];
static LIBRARY_NAME: [ElementClass; 1] = [ElementClass { id: CUSTOM_CLASS_BASE, ..base("Queue", "clash") }];
static TWICE: [ElementClass; 2] = [
    ElementClass { id: CUSTOM_CLASS_BASE, ..base("Sampler", "a custom class") },
    ElementClass { id: CUSTOM_CLASS_BASE + 1, ..base("Sampler", "again") },
];

#[test]
fn a_catalog_adds_custom_classes_after_the_library() {
    let catalog = Catalog::new(&CUSTOM).unwrap();
    assert_eq!(catalog.class_by_id(CUSTOM_CLASS_BASE + 1).map(|c| c.name), Some("Marker"));
    assert_eq!(catalog.class_by_id(CUSTOM_CLASS_BASE + 2), None);
    assert_eq!(catalog.class_by_name("Queue").map(|c| c.id), Some(2));
    assert_eq!(catalog.class_by_id(CLASS_COUNT), None, "no id between the library and the custom base");
    assert_eq!(catalog.classes().count(), CLASSES.len() + 2);
    assert_eq!(Catalog::LIBRARY.class_by_id(CUSTOM_CLASS_BASE), None);
    assert_eq!(Catalog::LIBRARY.class_by_name("Sampler"), None);
    assert_eq!(Catalog::new(&WRONG_ID), Err(CatalogError::WrongId { index: 0 }));
    assert_eq!(Catalog::new(&LIBRARY_NAME), Err(CatalogError::LibraryName { index: 0 }));
    assert_eq!(Catalog::new(&TWICE), Err(CatalogError::DuplicateName { index: 1 }));
}
