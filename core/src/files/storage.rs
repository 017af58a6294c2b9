//! Storage as core sees it: a trait a frontend implements, and the requests a
//! [`Files`](super::Files) session emits so that a frontend can run storage work
//! wherever it likes.
//!
//! Disk calls may be slow, and a session must never block its event loop. So the
//! session does not call [`Storage`] itself: it is a [`SideWork`](crate::side::SideWork)
//! that emits one [`Request`] at a time and later receives the [`Reply`]. A frontend
//! with a fast store (a RAM store on a board, a fake in tests) answers at once through
//! [`InlineStorage`] (which runs [`perform`]); the PC server copies the request, runs it
//! on a worker thread and hands the reply back when a waker says it is done. Either way
//! the machine is the same.
//!
//! One [`Storage`] value serves one session: it holds that session's open upload, open
//! download and listing snapshot. What several sessions share (which names are being
//! uploaded, for `ERR busy`) is the implementation's business.

/// How an upload treats an existing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WriteMode {
    /// The name must not exist; if it does, fail with [`StorageError::Exists`].
    Create,
    /// Replace the file (`OVERWRITE`).
    Overwrite,
    /// The temporary starts as a copy of the current file (`APPEND`), so an interrupted
    /// append leaves the file as it was.
    Append,
}

/// What can go wrong in storage; each maps to one `ERR` code of §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StorageError {
    /// No such file (`not-found`).
    NotFound,
    /// [`WriteMode::Create`] found the file; its current size (answered `EXISTS`).
    Exists(u64),
    /// Another session is uploading to this name (`busy`).
    Busy,
    /// The name belongs to an entry the store does not serve (on the PC: anything but
    /// a regular file with one link), which §3 never reads, writes or replaces
    /// (`bad-name`).
    NotServed,
    /// The medium is full (`no-space`); the caller has already lost the temporary.
    NoSpace,
    /// Anything else (`io`).
    Io,
}

/// The storage operations §3 needs, from the point of view of one session.
///
/// Contract: an upload is invisible (to `list`, `open_read`, other sessions) until
/// [`commit`](Self::commit) returns; [`abort`](Self::abort) — also implied by dropping
/// an implementation with an upload open — leaves no trace; a download reads the
/// version that was complete when [`open_read`](Self::open_read) ran.
pub trait Storage {
    /// Start an upload of `name` into a temporary, reserving the name against other
    /// writers. Returns the size the file will start from (0, or the current size for
    /// [`WriteMode::Append`]).
    fn begin_write(&mut self, name: &str, mode: WriteMode) -> Result<u64, StorageError>;

    /// Append one chunk to the open upload.
    fn write_chunk(&mut self, data: &[u8]) -> Result<(), StorageError>;

    /// Make the upload durable and visible under its name; returns the file's size.
    fn commit(&mut self) -> Result<u64, StorageError>;

    /// Forget the open upload, if any.
    fn abort(&mut self);

    /// Snapshot the listing (sorted by name, uploads in progress excluded); returns how
    /// many entries [`list_next`](Self::list_next) will give.
    fn list_begin(&mut self) -> Result<u64, StorageError>;

    /// The next entry of the snapshot: its size, and its name copied into `name`
    /// (returning the name's length), or `None` at the end.
    fn list_next(&mut self, name: &mut [u8; super::name::MAX_NAME]) -> Option<(u64, usize)>;

    /// Open `name` for reading; returns its size.
    fn open_read(&mut self, name: &str) -> Result<u64, StorageError>;

    /// Read the next bytes of the open download into `buf`; 0 only at its end.
    fn read_chunk(&mut self, buf: &mut [u8]) -> Result<usize, StorageError>;

    /// Close the open download, if any.
    fn close_read(&mut self);
}

/// One storage operation a session wants done. Borrowed from the session: a frontend
/// that runs it elsewhere copies it first ([`Request::Write`] carries at most one chunk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request<'a> {
    /// [`Storage::begin_write`].
    BeginWrite {
        /// Target name.
        name: &'a str,
        /// How to treat an existing file.
        mode: WriteMode,
    },
    /// [`Storage::write_chunk`]. The session's buffer is free again once this was taken.
    Write(&'a [u8]),
    /// [`Storage::commit`].
    Commit,
    /// [`Storage::abort`].
    Abort,
    /// [`Storage::list_begin`].
    ListBegin,
    /// [`Storage::list_next`].
    ListNext,
    /// [`Storage::open_read`].
    OpenRead(&'a str),
    /// [`Storage::read_chunk`] of at most this many bytes.
    Read(usize),
    /// [`Storage::close_read`].
    CloseRead,
}

/// The answer to a [`Request`], borrowed from wherever the frontend keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply<'a> {
    /// Done, nothing to say (write, abort, close).
    Done,
    /// A size: start size (begin), final size (commit), file size (open), entry count.
    Size(u64),
    /// A listing entry.
    Entry {
        /// File size.
        size: u64,
        /// File name.
        name: &'a [u8],
    },
    /// The listing is over (fewer entries than announced: the store changed).
    End,
    /// Bytes read; empty at the end of the file.
    Data(&'a [u8]),
    /// The operation failed.
    Failed(StorageError),
}

/// Scratch space for [`perform`]: the bytes a [`Reply`] borrows.
#[derive(Debug)]
pub struct Scratch<const N: usize> {
    /// Names of listing entries.
    pub name: [u8; super::name::MAX_NAME],
    /// Read data.
    pub data: [u8; N],
}

impl<const N: usize> Scratch<N> {
    /// Zeroed scratch space.
    pub const fn new() -> Self {
        Scratch {
            name: [0; super::name::MAX_NAME],
            data: [0; N],
        }
    }
}

impl<const N: usize> Default for Scratch<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// A [`Storage`] whose requests are run on the spot, with the scratch space its replies
/// borrow: the [`Answer`](crate::side::Answer) through which the
/// [`Inline`](crate::side::Inline) runner serves a [`Files`](super::Files) session.
#[derive(Debug)]
pub struct InlineStorage<S, const N: usize> {
    /// The store.
    pub store: S,
    /// Where replies keep their bytes.
    pub scratch: Scratch<N>,
}

impl<S, const N: usize> InlineStorage<S, N> {
    /// Answer requests from `store`.
    pub const fn new(store: S) -> Self {
        InlineStorage {
            store,
            scratch: Scratch::new(),
        }
    }
}

/// Run `req` on `storage` right now, for frontends whose storage is fast enough to call
/// inline (a RAM store, test fakes) and for worker threads that run it elsewhere.
pub fn perform<'s, S: Storage + ?Sized, const N: usize>(
    storage: &mut S,
    req: Request<'_>,
    scratch: &'s mut Scratch<N>,
) -> Reply<'s> {
    fn size(r: Result<u64, StorageError>) -> Reply<'static> {
        r.map_or_else(Reply::Failed, Reply::Size)
    }
    match req {
        Request::BeginWrite { name, mode } => size(storage.begin_write(name, mode)),
        Request::Write(data) => match storage.write_chunk(data) {
            Ok(()) => Reply::Done,
            Err(e) => Reply::Failed(e),
        },
        Request::Commit => size(storage.commit()),
        Request::Abort => {
            storage.abort();
            Reply::Done
        }
        Request::ListBegin => size(storage.list_begin()),
        Request::ListNext => match storage.list_next(&mut scratch.name) {
            Some((size, len)) => Reply::Entry {
                size,
                name: &scratch.name[..len],
            },
            None => Reply::End,
        },
        Request::OpenRead(name) => size(storage.open_read(name)),
        Request::Read(max) => {
            let max = max.min(N);
            match storage.read_chunk(&mut scratch.data[..max]) {
                Ok(n) => Reply::Data(&scratch.data[..n]),
                Err(e) => Reply::Failed(e),
            }
        }
        Request::CloseRead => {
            storage.close_read();
            Reply::Done
        }
    }
}
