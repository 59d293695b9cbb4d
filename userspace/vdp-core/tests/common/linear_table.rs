//! The reference the longest-prefix-match table is tested against: a list searched end to
//! end, which is what Click's LinearIPLookup does.

use vdp_core::lpm::{LpmError, Prefix, Route};
use vdp_core::wire::Ipv4Address;

#[derive(Default)]
pub struct LinearTable {
    pub routes: Vec<(Prefix, Route)>,
}

impl LinearTable {
    pub fn add(&mut self, prefix: Prefix, route: Route) -> Result<(), LpmError> {
        if self.routes.iter().any(|(p, _)| *p == prefix) {
            return Err(LpmError::Exists);
        }
        self.routes.push((prefix, route));
        Ok(())
    }

    pub fn set(&mut self, prefix: Prefix, route: Route) -> Option<Route> {
        match self.routes.iter_mut().find(|(p, _)| *p == prefix) {
            Some(entry) => Some(std::mem::replace(&mut entry.1, route)),
            None => {
                self.routes.push((prefix, route));
                None
            }
        }
    }

    pub fn remove(&mut self, prefix: Prefix) -> Result<Route, LpmError> {
        let at = self.routes.iter().position(|(p, _)| *p == prefix).ok_or(LpmError::NotFound)?;
        Ok(self.routes.swap_remove(at).1)
    }

    pub fn lookup(&self, address: Ipv4Address) -> Option<(Prefix, Route)> {
        self.routes.iter().filter(|(p, _)| p.contains(address)).max_by_key(|(p, _)| p.len()).copied()
    }
}
