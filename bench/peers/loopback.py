#!/usr/bin/env python3
"""A minimal loopback (passthrough) filesystem on mfusepy, the peer in bench/run.

mfusepy's wheel on PyPI ships only the module, not the examples/ directory of its
repository, so this file is written for the benchmark from mfusepy's documented
`Operations` API: every handler maps the path below ROOT and makes the one syscall
a loopback needs, raising OSError on failure (mfusepy turns it into -errno).

    python3 bench/peers/loopback.py ROOT MOUNTPOINT [OPTS]    # stays in the foreground
"""

import errno
import os
import sys

import mfusepy as fuse

STAT_KEYS = ('st_mode', 'st_nlink', 'st_uid', 'st_gid', 'st_rdev', 'st_size', 'st_blocks')


class Loopback(fuse.Operations):
    use_ns = True  # times as integer nanoseconds

    def __init__(self, root):
        self.root = os.path.realpath(root)

    def _p(self, path):
        return self.root + path

    def getattr(self, path, fh=None):
        st = os.fstat(fh) if fh is not None else os.lstat(self._p(path))
        attrs = {k: getattr(st, k) for k in STAT_KEYS}
        attrs['st_atime'] = st.st_atime_ns
        attrs['st_mtime'] = st.st_mtime_ns
        attrs['st_ctime'] = st.st_ctime_ns
        return attrs

    def access(self, path, amode):
        if not os.access(self._p(path), amode):
            raise fuse.FuseOSError(errno.EACCES)
        return 0

    def readdir(self, path, fh):
        return ['.', '..', *os.listdir(self._p(path))]

    def readlink(self, path):
        return os.readlink(self._p(path))

    def mknod(self, path, mode, dev):
        os.mknod(self._p(path), mode, dev)

    def mkdir(self, path, mode):
        os.mkdir(self._p(path), mode)

    def rmdir(self, path):
        os.rmdir(self._p(path))

    def unlink(self, path):
        os.unlink(self._p(path))

    def symlink(self, target, source):
        os.symlink(source, self._p(target))

    def link(self, target, source):
        os.link(self._p(source), self._p(target))

    def rename(self, old, new):
        os.rename(self._p(old), self._p(new))

    def chmod(self, path, mode):
        os.chmod(self._p(path), mode, follow_symlinks=False)

    def chown(self, path, uid, gid):
        os.chown(self._p(path), uid, gid, follow_symlinks=False)

    def truncate(self, path, length, fh=None):
        if fh is not None:
            os.ftruncate(fh, length)
        else:
            os.truncate(self._p(path), length)

    def utimens(self, path, times=None):
        os.utime(self._p(path), ns=times, follow_symlinks=False)

    def open(self, path, flags):
        return os.open(self._p(path), flags)

    def create(self, path, mode, flags):
        return os.open(self._p(path), flags | os.O_CREAT, mode)

    def read(self, path, size, offset, fh):
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        return os.pwrite(fh, data, offset)

    def flush(self, path, fh):
        return 0

    def fsync(self, path, datasync, fh):
        if datasync:
            os.fdatasync(fh)
        else:
            os.fsync(fh)

    def release(self, path, fh):
        os.close(fh)

    def statfs(self, path):
        sv = os.statvfs(self._p(path))
        keys = ('f_bsize', 'f_frsize', 'f_blocks', 'f_bfree', 'f_bavail',
                'f_files', 'f_ffree', 'f_favail', 'f_flag', 'f_namemax')
        return {k: getattr(sv, k) for k in keys}


def serve(make_operations, usage):
    """The benchmark's command line, `SCRIPT DIR MOUNTPOINT [OPTS]`: mount what
    make_operations(DIR) returns, in the foreground, with OPTS as mfusepy takes mount
    options (keyword arguments: allow_other=True, ...)."""
    if len(sys.argv) not in (3, 4):
        sys.exit(usage)
    opts = {}
    for o in (sys.argv[3].split(',') if len(sys.argv) == 4 else []):
        key, _, value = o.partition('=')
        opts[key] = value if value else True
    fuse.FUSE(make_operations(sys.argv[1]), sys.argv[2], foreground=True, **opts)


def main():
    serve(Loopback, 'usage: loopback.py ROOT MOUNTPOINT [OPT,OPT=VALUE,...]')


if __name__ == '__main__':
    main()
