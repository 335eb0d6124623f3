import { KERNEL_RELEASE } from '../types';
import { MemFs } from './memfs';

/**
 * The initial root filesystem of a machine: a small Debian-like tree.
 * Generated deterministically from the machine's configuration.
 */
export function buildRootfs(fs: MemFs, hostname: string): void {
  for (const d of ['usr/bin', 'usr/sbin', 'usr/lib', 'lib/x86_64-linux-gnu', 'etc/modprobe.d', 'home', 'root', 'var/log', 'var/tmp', 'mnt', 'opt', 'srv', 'media', 'boot']) {
    fs.mkdirp(d);
  }
  // merged /usr (Debian 12): /bin/true is /usr/bin/true
  fs.addSymlink('bin', 'usr/bin');
  fs.addSymlink('sbin', 'usr/sbin');
  fs.mkdirp(`lib/modules/${KERNEL_RELEASE}/kernel`);
  fs.writeFile(
    'etc/os-release',
    [
      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
      'NAME="Debian GNU/Linux"',
      'VERSION_ID="12"',
      'VERSION="12 (bookworm)"',
      'VERSION_CODENAME=bookworm',
      'ID=debian',
      'HOME_URL="https://www.debian.org/"',
      'SUPPORT_URL="https://www.debian.org/support"',
      'BUG_REPORT_URL="https://bugs.debian.org/"',
      '',
    ].join('\n'),
  );
  fs.writeFile('etc/debian_version', '12.12\n');
  fs.writeFile('etc/hostname', `${hostname}\n`);
  fs.writeFile('etc/hosts', `127.0.0.1\tlocalhost\n127.0.1.1\t${hostname}\n\n::1\t\tlocalhost ip6-localhost ip6-loopback\n`);
  fs.writeFile('etc/passwd', 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nstudent:x:1000:1000:Student,,,:/home/student:/bin/bash\n');
  fs.writeFile('etc/group', 'root:x:0:\ndaemon:x:1:\nsudo:x:27:student\nnogroup:x:65534:\nstudent:x:1000:\n');
  fs.writeFile('etc/shells', '# /etc/shells: valid login shells\n/bin/sh\n/bin/bash\n/usr/bin/bash\n');
  fs.writeFile('etc/modprobe.d/README', '# Files ending in .conf here configure modprobe(8).\n');
  fs.writeFile('etc/fstab', '# <file system> <mount point>   <type>  <options>       <dump>  <pass>\n');
  fs.writeFile('root/.bashrc', '# ~/.bashrc: executed by bash(1) for non-login shells.\n');
  fs.mkdirp('home/student', 0o755);
}
