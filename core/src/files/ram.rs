//! A fixed-size RAM store: [`Storage`] without a heap or a file system, for boards and
//! for tests that must prove a whole session allocates nothing.
//!
//! [`RamDisk`] holds `FILES` slots of at most `BYTES` bytes each; uploads take a free
//! slot as their temporary (an append copies the file into it first), so a commit is
//! only a change of state and an interrupted upload leaves nothing. A file replaced
//! while someone downloads it stays readable until that download is closed, which is
//! §3's "a GET during an upload returns the last complete version". A listing is a
//! snapshot of slots taken by `list_begin`; an entry whose file was replaced since (its
//! slot freed, maybe reused) is left out rather than read from the slot's new owner, and
//! the session, which announced the count already, then ends the connection (see
//! [`Reply::End`](super::Reply::End)). Sessions share the disk through a `RefCell`: every call borrows it only for its own duration, which is
//! all a single-threaded frontend (smoltcp on a board) needs.

use core::cell::RefCell;

use super::name::MAX_NAME;
use super::storage::{Storage, StorageError, WriteMode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Free,
    /// An upload's temporary, invisible to everyone else.
    Upload,
    Stored,
    /// Replaced by a newer version but still being read.
    Replaced,
}

/// One file or temporary.
#[derive(Debug)]
pub struct Slot<const BYTES: usize> {
    state: State,
    name: heapless::String<MAX_NAME>,
    data: heapless::Vec<u8, BYTES>,
    readers: u16,
    /// Bumped each time the slot is freed, so a listing snapshot can tell that a slot it
    /// saw as a file now holds something else (nothing, a temporary, another file).
    generation: u32,
}

impl<const BYTES: usize> Slot<BYTES> {
    const FREE: Self = Slot {
        state: State::Free,
        name: heapless::String::new(),
        data: heapless::Vec::new(),
        readers: 0,
        generation: 0,
    };

    fn free(&mut self) {
        self.state = State::Free;
        self.name.clear();
        self.data.clear();
        self.readers = 0;
        self.generation = self.generation.wrapping_add(1);
    }
}

/// The shared storage: `FILES` slots (files and upload temporaries together) of at most
/// `BYTES` bytes each.
#[derive(Debug)]
pub struct RamDisk<const FILES: usize, const BYTES: usize> {
    slots: [Slot<BYTES>; FILES],
}

impl<const FILES: usize, const BYTES: usize> Default for RamDisk<FILES, BYTES> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const FILES: usize, const BYTES: usize> RamDisk<FILES, BYTES> {
    /// An empty disk.
    pub const fn new() -> Self {
        RamDisk {
            slots: [Slot::FREE; FILES],
        }
    }

    fn find(&self, name: &str, state: State) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.state == state && s.name == name)
    }

    /// The content of a stored file.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.find(name, State::Stored)
            .map(|i| &self.slots[i].data[..])
    }

    /// Slots in use (files, temporaries, replaced versions still being read).
    pub fn used_slots(&self) -> usize {
        self.slots.iter().filter(|s| s.state != State::Free).count()
    }
}

/// One session's handle on a shared [`RamDisk`].
#[derive(Debug)]
pub struct RamStore<'a, const FILES: usize, const BYTES: usize> {
    disk: &'a RefCell<RamDisk<FILES, BYTES>>,
    upload: Option<usize>,
    reading: Option<(usize, usize)>,
    /// The listing snapshot: slot and its generation when `list_begin` ran.
    listing: heapless::Vec<(u16, u32), FILES>,
    list_pos: usize,
}

impl<'a, const FILES: usize, const BYTES: usize> RamStore<'a, FILES, BYTES> {
    /// A handle for one session.
    pub fn new(disk: &'a RefCell<RamDisk<FILES, BYTES>>) -> Self {
        const { assert!(FILES <= u16::MAX as usize, "too many slots") };
        RamStore {
            disk,
            upload: None,
            reading: None,
            listing: heapless::Vec::new(),
            list_pos: 0,
        }
    }
}

impl<const FILES: usize, const BYTES: usize> Storage for RamStore<'_, FILES, BYTES> {
    fn begin_write(&mut self, name: &str, mode: WriteMode) -> Result<u64, StorageError> {
        self.abort();
        let mut disk = self.disk.borrow_mut();
        if disk.find(name, State::Upload).is_some() {
            return Err(StorageError::Busy);
        }
        let current = disk.find(name, State::Stored);
        if let (WriteMode::Create, Some(i)) = (mode, current) {
            return Err(StorageError::Exists(disk.slots[i].data.len() as u64));
        }
        let temp = disk
            .slots
            .iter()
            .position(|s| s.state == State::Free)
            .ok_or(StorageError::NoSpace)?;
        let slot = &mut disk.slots[temp];
        slot.state = State::Upload;
        // Valid names fit MAX_NAME.
        let _ = slot.name.push_str(name);
        if let (WriteMode::Append, Some(src)) = (mode, current) {
            let (a, b) = disk.slots.split_at_mut(temp.max(src));
            let (dst, src) = if temp < src {
                (&mut a[temp], &b[0])
            } else {
                (&mut b[0], &a[src])
            };
            // Both hold at most BYTES.
            let _ = dst.data.extend_from_slice(&src.data);
        }
        self.upload = Some(temp);
        Ok(disk.slots[temp].data.len() as u64)
    }

    fn write_chunk(&mut self, data: &[u8]) -> Result<(), StorageError> {
        let i = self.upload.ok_or(StorageError::Io)?;
        let full = self.disk.borrow_mut().slots[i]
            .data
            .extend_from_slice(data)
            .is_err();
        if full {
            self.abort();
            return Err(StorageError::NoSpace);
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<u64, StorageError> {
        let i = self.upload.take().ok_or(StorageError::Io)?;
        let mut disk = self.disk.borrow_mut();
        let name = disk.slots[i].name.clone();
        if let Some(old) = disk.find(&name, State::Stored) {
            let old = &mut disk.slots[old];
            if old.readers > 0 {
                old.state = State::Replaced;
            } else {
                old.free();
            }
        }
        disk.slots[i].state = State::Stored;
        Ok(disk.slots[i].data.len() as u64)
    }

    fn abort(&mut self) {
        if let Some(i) = self.upload.take() {
            self.disk.borrow_mut().slots[i].free();
        }
    }

    fn list_begin(&mut self) -> Result<u64, StorageError> {
        let disk = self.disk.borrow();
        self.listing.clear();
        for (i, s) in disk.slots.iter().enumerate() {
            if s.state == State::Stored {
                let _ = self.listing.push((i as u16, s.generation));
            }
        }
        self.listing.sort_unstable_by(|&(a, _), &(b, _)| {
            let (a, b) = (&disk.slots[a as usize].name, &disk.slots[b as usize].name);
            a.as_bytes().cmp(b.as_bytes())
        });
        self.list_pos = 0;
        Ok(self.listing.len() as u64)
    }

    fn list_next(&mut self, name: &mut [u8; MAX_NAME]) -> Option<(u64, usize)> {
        let disk = self.disk.borrow();
        loop {
            let &(i, generation) = self.listing.get(self.list_pos)?;
            self.list_pos += 1;
            let slot = &disk.slots[i as usize];
            // Freed since the snapshot (the file was replaced and nobody reads the old
            // version): the slot may be free, a temporary or another file by now, so
            // its name and size are not this listing's. A version replaced but still
            // being read is the snapshot's own, and is listed.
            if slot.generation != generation
                || !matches!(slot.state, State::Stored | State::Replaced)
            {
                continue;
            }
            let n = slot.name.len();
            name[..n].copy_from_slice(slot.name.as_bytes());
            return Some((slot.data.len() as u64, n));
        }
    }

    fn open_read(&mut self, name: &str) -> Result<u64, StorageError> {
        self.close_read();
        let mut disk = self.disk.borrow_mut();
        let i = disk
            .find(name, State::Stored)
            .ok_or(StorageError::NotFound)?;
        disk.slots[i].readers += 1;
        self.reading = Some((i, 0));
        Ok(disk.slots[i].data.len() as u64)
    }

    fn read_chunk(&mut self, buf: &mut [u8]) -> Result<usize, StorageError> {
        let (i, pos) = self.reading.as_mut().ok_or(StorageError::Io)?;
        let disk = self.disk.borrow();
        let data = &disk.slots[*i].data;
        let n = buf.len().min(data.len() - *pos);
        buf[..n].copy_from_slice(&data[*pos..*pos + n]);
        *pos += n;
        Ok(n)
    }

    fn close_read(&mut self) {
        if let Some((i, _)) = self.reading.take() {
            let mut disk = self.disk.borrow_mut();
            let slot = &mut disk.slots[i];
            slot.readers -= 1;
            if slot.readers == 0 && slot.state == State::Replaced {
                slot.free();
            }
        }
    }
}

impl<const FILES: usize, const BYTES: usize> Drop for RamStore<'_, FILES, BYTES> {
    fn drop(&mut self) {
        self.abort();
        self.close_read();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_commit_replace_while_reading() {
        let disk = RefCell::new(RamDisk::<3, 16>::new());
        let mut a = RamStore::new(&disk);
        let mut b = RamStore::new(&disk);
        assert_eq!(a.begin_write("f", WriteMode::Create), Ok(0));
        assert_eq!(
            b.begin_write("f", WriteMode::Create),
            Err(StorageError::Busy)
        );
        a.write_chunk(b"old").unwrap();
        assert_eq!(a.commit(), Ok(3));
        assert_eq!(b.open_read("f"), Ok(3));
        assert_eq!(a.begin_write("f", WriteMode::Append), Ok(3));
        a.write_chunk(b"+new").unwrap();
        assert_eq!(a.commit(), Ok(7));
        let mut buf = [0u8; 8];
        assert_eq!(b.read_chunk(&mut buf), Ok(3));
        assert_eq!(&buf[..3], b"old");
        assert_eq!(disk.borrow().used_slots(), 2);
        b.close_read();
        assert_eq!(disk.borrow().used_slots(), 1);
        assert_eq!(disk.borrow().get("f"), Some(&b"old+new"[..]));
        // Full: a chunk over BYTES fails and leaves nothing behind.
        assert_eq!(a.begin_write("g", WriteMode::Create), Ok(0));
        assert_eq!(a.write_chunk(&[0; 17]), Err(StorageError::NoSpace));
        assert_eq!(disk.borrow().used_slots(), 1);
        drop(a);
        assert_eq!(b.list_begin(), Ok(1));
    }

    #[test]
    fn listing_skips_slots_freed_since_the_snapshot() {
        let disk = RefCell::new(RamDisk::<4, 16>::new());
        let (mut a, mut b, mut c) = (
            RamStore::new(&disk),
            RamStore::new(&disk),
            RamStore::new(&disk),
        );
        for name in ["f", "g"] {
            a.begin_write(name, WriteMode::Create).unwrap();
            a.write_chunk(b"old").unwrap();
            a.commit().unwrap();
        }
        // `f` is being read, `g` is not; both are replaced after the snapshot.
        assert_eq!(b.open_read("f"), Ok(3));
        assert_eq!(c.list_begin(), Ok(2));
        for name in ["f", "g"] {
            a.begin_write(name, WriteMode::Overwrite).unwrap();
            a.write_chunk(b"new!").unwrap();
            a.commit().unwrap();
        }
        // The freed slot of old `g` becomes a temporary.
        a.begin_write("h", WriteMode::Create).unwrap();
        let mut name = [0u8; MAX_NAME];
        // Old `f` is still the snapshot's version; old `g`'s slot is not `g` any more.
        assert_eq!(c.list_next(&mut name), Some((3, 1)));
        assert_eq!(&name[..1], b"f");
        assert_eq!(c.list_next(&mut name), None);
    }
}
