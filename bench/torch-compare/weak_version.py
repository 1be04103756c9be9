#!/usr/bin/env python3
"""Marks one symbol-version requirement of an ELF shared library weak (VER_FLG_WEAK), in place.

glibc's loader refuses a library whose required version (e.g. GLIBCXX_3.4.32) the system's library lacks,
unless the requirement is weak: then it loads and only symbols bound to that version would fail to resolve.
TorchSharp 0.107's libLibTorchSharp.so requires GLIBCXX_3.4.32 for one symbol, std::ios_base_library_init, a
marker that GCC 13's <iostream> references without ever calling it (no relocation uses it), while Debian 12's
libstdc++ stops at GLIBCXX_3.4.30. Run `patchelf --clear-symbol-version _ZSt21ios_base_library_initv` first so
no symbol is bound to the version any more. Only 64-bit little-endian ELF (x86-64, arm64 Linux).

usage: weak_version.py LIBRARY VERSION      e.g. weak_version.py libLibTorchSharp.so GLIBCXX_3.4.32
"""
import struct
import sys

SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2


def main(path: str, version: str) -> int:
    with open(path, "r+b") as f:
        elf = bytearray(f.read())
        if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
            sys.exit(f"{path}: not a 64-bit little-endian ELF file")
        # Elf64_Ehdr: e_shoff at 0x28, e_shentsize/e_shnum at 0x3A/0x3C
        shoff, = struct.unpack_from("<Q", elf, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", elf, 0x3A)
        sections = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
        verneed = [s for s in sections if s[1] == SHT_GNU_VERNEED]
        if not verneed:
            sys.exit(f"{path}: no .gnu.version_r section (no version requirements)")
        _, _, _, _, offset, _, link, count, _, _ = verneed[0]  # sh_link: the string table, sh_info: entry count
        strtab = sections[link][4]

        def name(at: int) -> str:
            end = elf.index(0, strtab + at)
            return elf[strtab + at:end].decode()

        need = offset
        for _ in range(count):
            # Elf64_Verneed: vn_version, vn_cnt, vn_file, vn_aux, vn_next
            _, cnt, file, aux, next_need = struct.unpack_from("<HHIII", elf, need)
            entry = need + aux
            for _ in range(cnt):
                # Elf64_Vernaux: vna_hash, vna_flags, vna_other, vna_name, vna_next
                _, flags, _, vname, next_aux = struct.unpack_from("<IHHII", elf, entry)
                if name(vname) == version:
                    struct.pack_into("<H", elf, entry + 4, flags | VER_FLG_WEAK)
                    f.seek(0)
                    f.write(elf)
                    print(f"{path}: {version} (from {name(file)}) is now a weak requirement")
                    return 0
                entry += next_aux
            need += next_need
        sys.exit(f"{path}: requires no version {version}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
