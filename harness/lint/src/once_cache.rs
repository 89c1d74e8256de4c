//! A map whose values are computed at most once, by whichever thread asks first, while other
//! keys are computed concurrently.

use std::hash::Hash;
use std::sync::{Arc, Mutex, OnceLock};

use rustc_hash::FxHashMap;

pub struct OnceCache<K, V> {
    slots: Mutex<FxHashMap<K, Arc<OnceLock<V>>>>,
}

impl<K, V> Default for OnceCache<K, V> {
    fn default() -> Self {
        OnceCache {
            slots: Mutex::default(),
        }
    }
}

impl<K: Eq + Hash + Clone, V> OnceCache<K, V> {
    /// The value for `key`, computing it with `load` if no thread has yet.
    pub fn get_or_load(&self, key: &K, load: impl FnOnce() -> V) -> Arc<OnceLock<V>> {
        let slot = {
            // A poisoned lock only means a panic elsewhere mid-insert; the map is still sound.
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.entry(key.clone()).or_default().clone()
        };
        slot.get_or_init(load);
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn loads_each_key_once() {
        let cache: OnceCache<u32, u32> = OnceCache::default();
        let loads = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for k in 0..10 {
                        let v = cache.get_or_load(&k, || {
                            loads.fetch_add(1, Ordering::Relaxed);
                            k * 2
                        });
                        assert_eq!(v.get(), Some(&(k * 2)));
                    }
                });
            }
        });
        assert_eq!(loads.load(Ordering::Relaxed), 10);
    }
}
