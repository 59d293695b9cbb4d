//! [`Vector`]: the platform's fallible growable array with the methods elements use.

use super::platform::{NoMemory, Platform};
use core::ops::{Deref, DerefMut};

/// An array of `T` in the platform's memory; every growth can fail.
pub struct Vector<P: Platform, T: Send + Sync + Unpin + 'static>(P::Vec<T>);

impl<P: Platform, T: Send + Sync + Unpin + 'static> Vector<P, T> {
    /// An empty array with room for `capacity` elements (may sleep).
    pub fn with_capacity(capacity: usize) -> Result<Self, NoMemory> {
        Ok(Vector(P::vec_with_capacity(capacity)?))
    }

    /// An empty array with room for `capacity` elements, without sleeping.
    pub fn with_capacity_atomic(capacity: usize) -> Result<Self, NoMemory> {
        Ok(Vector(P::vec_with_capacity_atomic(capacity)?))
    }

    /// An empty array; allocates nothing.
    pub fn new() -> Self {
        Vector(P::vec_new())
    }

    /// Appends `value`, growing when full (may sleep).
    pub fn push(&mut self, value: T) -> Result<(), NoMemory> {
        P::vec_push(&mut self.0, value).map_err(|_| NoMemory)
    }

    /// Appends `value` if there is room without allocating; hands it back otherwise.
    pub fn push_within_capacity(&mut self, value: T) -> Result<(), T> {
        P::vec_push_within_capacity(&mut self.0, value)
    }

    pub fn pop(&mut self) -> Option<T> {
        P::vec_pop(&mut self.0)
    }

    pub fn capacity(&self) -> usize {
        P::vec_capacity(&self.0)
    }

    /// Removes every element.
    pub fn clear(&mut self) {
        while self.pop().is_some() {}
    }
}

impl<P: Platform, T: Copy + Send + Sync + Unpin + 'static> Vector<P, T> {
    /// A copy of `items` (may sleep).
    pub fn from_slice(items: &[T]) -> Result<Self, NoMemory> {
        let mut vector = Self::with_capacity(items.len())?;
        for item in items {
            vector.push_within_capacity(*item).map_err(|_| NoMemory)?;
        }
        Ok(vector)
    }

    /// A copy of `items`, without sleeping (under a lock, on the packet path).
    pub fn from_slice_atomic(items: &[T]) -> Result<Self, NoMemory> {
        let mut vector = Self::with_capacity_atomic(items.len())?;
        for item in items {
            vector.push_within_capacity(*item).map_err(|_| NoMemory)?;
        }
        Ok(vector)
    }

    /// `len` copies of `value` (may sleep).
    pub fn filled(len: usize, value: T) -> Result<Self, NoMemory> {
        let mut vector = Self::with_capacity(len)?;
        for _ in 0..len {
            vector.push_within_capacity(value).map_err(|_| NoMemory)?;
        }
        Ok(vector)
    }
}

impl<P: Platform, T: Send + Sync + Unpin + 'static> Deref for Vector<P, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<P: Platform, T: Send + Sync + Unpin + 'static> DerefMut for Vector<P, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}
