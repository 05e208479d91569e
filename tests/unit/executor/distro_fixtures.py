"""Canned distribution files of the families fleetkit reasons about, from their formats.

Each fixture is what a host of that release holds in /etc (os-release, the
*-release files, lsb-release, debian_version) and what `lsb_release -a` prints
there (None: not installed). The unit tests assert the values Ansible documents;
tests/compat/test_facts_files_differential.py runs ansible-core's own collectors
on the same files and compares every fact.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Distro:
    files: dict[str, str]
    lsb_release: str | None = None
    expect: dict[str, str] = field(default_factory=dict)
    """The facts a test pins (distribution, version, release, os_family...)."""


DEBIAN_12 = Distro(
    files={
        "/etc/os-release": """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
""",
        "/etc/debian_version": "12.5\n",
    },
    lsb_release="Distributor ID:\tDebian\nDescription:\tDebian GNU/Linux 12 (bookworm)\n"
    "Release:\t12\nCodename:\tbookworm\n",
    expect={
        "distribution": "Debian",
        "distribution_version": "12.5",
        "distribution_major_version": "12",
        "distribution_minor_version": "5",
        "distribution_release": "bookworm",
        "os_family": "Debian",
    },
)

UBUNTU_2204 = Distro(
    files={
        "/etc/os-release": """PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
UBUNTU_CODENAME=jammy
""",
        "/etc/lsb-release": """DISTRIB_ID=Ubuntu
DISTRIB_RELEASE=22.04
DISTRIB_CODENAME=jammy
DISTRIB_DESCRIPTION="Ubuntu 22.04.4 LTS"
""",
        "/etc/debian_version": "bookworm/sid\n",
    },
    lsb_release="Distributor ID:\tUbuntu\nDescription:\tUbuntu 22.04.4 LTS\nRelease:\t22.04\n"
    "Codename:\tjammy\n",
    expect={
        "distribution": "Ubuntu",
        "distribution_version": "22.04",
        "distribution_major_version": "22",
        "distribution_release": "jammy",
        "os_family": "Debian",
    },
)

UBUNTU_2404_NO_LSB = Distro(
    files={
        "/etc/os-release": """PRETTY_NAME="Ubuntu 24.04 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=noble
LOGO=ubuntu-logo
""",
        "/etc/lsb-release": """DISTRIB_ID=Ubuntu
DISTRIB_RELEASE=24.04
DISTRIB_CODENAME=noble
DISTRIB_DESCRIPTION="Ubuntu 24.04 LTS"
""",
        "/etc/debian_version": "trixie/sid\n",
    },
    expect={
        "distribution": "Ubuntu",
        "distribution_version": "24.04",
        "distribution_release": "noble",
        "os_family": "Debian",
    },
)

RHEL_93 = Distro(
    files={
        "/etc/os-release": """NAME="Red Hat Enterprise Linux"
VERSION="9.3 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Red Hat Enterprise Linux 9.3 (Plow)"
ANSI_COLOR="0;31"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos"
HOME_URL="https://www.redhat.com/"
DOCUMENTATION_URL="https://access.redhat.com/documentation/en-us/red_hat_enterprise_linux/9"
BUG_REPORT_URL="https://bugzilla.redhat.com/"
REDHAT_BUGZILLA_PRODUCT="Red Hat Enterprise Linux 9"
REDHAT_BUGZILLA_PRODUCT_VERSION=9.3
REDHAT_SUPPORT_PRODUCT="Red Hat Enterprise Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="9.3"
""",
        "/etc/redhat-release": "Red Hat Enterprise Linux release 9.3 (Plow)\n",
        "/etc/system-release": "Red Hat Enterprise Linux release 9.3 (Plow)\n",
    },
    expect={
        "distribution": "RedHat",
        "distribution_version": "9.3",
        "distribution_major_version": "9",
        "distribution_release": "Plow",
        "os_family": "RedHat",
    },
)

CENTOS_7 = Distro(
    files={
        "/etc/os-release": """NAME="CentOS Linux"
VERSION="7 (Core)"
ID="centos"
ID_LIKE="rhel fedora"
VERSION_ID="7"
PRETTY_NAME="CentOS Linux 7 (Core)"
ANSI_COLOR="0;31"
CPE_NAME="cpe:/o:centos:centos:7"
HOME_URL="https://www.centos.org/"
BUG_REPORT_URL="https://bugs.centos.org/"
CENTOS_MANTISBT_PROJECT="CentOS-7"
CENTOS_MANTISBT_PROJECT_VERSION="7"
REDHAT_SUPPORT_PRODUCT="centos"
REDHAT_SUPPORT_PRODUCT_VERSION="7"
""",
        "/etc/centos-release": "CentOS Linux release 7.9.2009 (Core)\n",
        "/etc/redhat-release": "CentOS Linux release 7.9.2009 (Core)\n",
        "/etc/system-release": "CentOS Linux release 7.9.2009 (Core)\n",
    },
    expect={
        "distribution": "CentOS",
        "distribution_version": "7.9",
        "distribution_major_version": "7",
        "distribution_release": "Core",
        "os_family": "RedHat",
    },
)

CENTOS_STREAM_9 = Distro(
    files={
        "/etc/os-release": """NAME="CentOS Stream"
VERSION="9"
ID="centos"
ID_LIKE="rhel fedora"
VERSION_ID="9"
PLATFORM_ID="platform:el9"
PRETTY_NAME="CentOS Stream 9"
ANSI_COLOR="0;31"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:centos:centos:9"
HOME_URL="https://centos.org/"
BUG_REPORT_URL="https://issues.redhat.com/"
REDHAT_SUPPORT_PRODUCT="Red Hat Enterprise Linux 9"
REDHAT_SUPPORT_PRODUCT_VERSION="CentOS Stream"
""",
        "/etc/centos-release": "CentOS Stream release 9\n",
        "/etc/redhat-release": "CentOS Stream release 9\n",
        "/etc/system-release": "CentOS Stream release 9\n",
    },
    expect={
        "distribution": "CentOS",
        "distribution_version": "9",
        "distribution_release": "Stream",
        "os_family": "RedHat",
    },
)

ROCKY_93 = Distro(
    files={
        "/etc/os-release": """NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
ANSI_COLOR="0;32"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:rocky:rocky:9::baseos"
HOME_URL="https://rockylinux.org/"
BUG_REPORT_URL="https://bugs.rockylinux.org/"
ROCKY_SUPPORT_PRODUCT="Rocky-Linux-9"
ROCKY_SUPPORT_PRODUCT_VERSION="9.3"
REDHAT_SUPPORT_PRODUCT="Rocky Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="9.3"
""",
        "/etc/rocky-release": "Rocky Linux release 9.3 (Blue Onyx)\n",
        "/etc/redhat-release": "Rocky Linux release 9.3 (Blue Onyx)\n",
        "/etc/system-release": "Rocky Linux release 9.3 (Blue Onyx)\n",
    },
    expect={
        "distribution": "Rocky",
        "distribution_version": "9.3",
        "distribution_major_version": "9",
        "distribution_release": "Blue Onyx",
        "os_family": "RedHat",
    },
)

ALMA_93 = Distro(
    files={
        "/etc/os-release": """NAME="AlmaLinux"
VERSION="9.3 (Shamrock Pampas Cat)"
ID="almalinux"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="AlmaLinux 9.3 (Shamrock Pampas Cat)"
ANSI_COLOR="0;34"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:almalinux:almalinux:9::baseos"
HOME_URL="https://almalinux.org/"
BUG_REPORT_URL="https://bugs.almalinux.org/"
""",
        "/etc/almalinux-release": "AlmaLinux release 9.3 (Shamrock Pampas Cat)\n",
        "/etc/redhat-release": "AlmaLinux release 9.3 (Shamrock Pampas Cat)\n",
        "/etc/system-release": "AlmaLinux release 9.3 (Shamrock Pampas Cat)\n",
    },
    expect={"distribution": "AlmaLinux", "distribution_version": "9.3", "os_family": "RedHat"},
)

FEDORA_40 = Distro(
    files={
        "/etc/os-release": """NAME="Fedora Linux"
VERSION="40 (Server Edition)"
ID=fedora
VERSION_ID=40
VERSION_CODENAME=""
PLATFORM_ID="platform:f40"
PRETTY_NAME="Fedora Linux 40 (Server Edition)"
ANSI_COLOR="0;38;2;60;110;180"
LOGO=fedora-logo-icon
CPE_NAME="cpe:/o:fedoraproject:fedora:40"
HOME_URL="https://fedoraproject.org/"
DEFAULT_HOSTNAME="fedora"
VARIANT="Server Edition"
VARIANT_ID=server
""",
        "/etc/fedora-release": "Fedora release 40 (Forty)\n",
        "/etc/redhat-release": "Fedora release 40 (Forty)\n",
        "/etc/system-release": "Fedora release 40 (Forty)\n",
    },
    expect={
        "distribution": "Fedora",
        "distribution_version": "40",
        "distribution_release": "",
        "os_family": "RedHat",
    },
)

ORACLE_93 = Distro(
    files={
        "/etc/os-release": """NAME="Oracle Linux Server"
VERSION="9.3"
ID="ol"
ID_LIKE="fedora"
VARIANT="Server"
VARIANT_ID="server"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Oracle Linux Server 9.3"
ANSI_COLOR="0;31"
CPE_NAME="cpe:/o:oracle:linux:9:3:server"
HOME_URL="https://linux.oracle.com/"
""",
        "/etc/oracle-release": "Oracle Linux Server release 9.3\n",
        "/etc/redhat-release": "Red Hat Enterprise Linux release 9.3 (Plow)\n",
        "/etc/system-release": "Oracle Linux Server release 9.3\n",
    },
    expect={"distribution": "OracleLinux", "distribution_version": "9.3", "os_family": "RedHat"},
)

AMAZON_2023 = Distro(
    files={
        "/etc/os-release": """NAME="Amazon Linux"
VERSION="2023"
ID="amzn"
ID_LIKE="fedora"
VERSION_ID="2023"
PLATFORM_ID="platform:al2023"
PRETTY_NAME="Amazon Linux 2023.3.20240219"
ANSI_COLOR="0;33"
CPE_NAME="cpe:2.3:o:amazon:amazon_linux:2023"
HOME_URL="https://aws.amazon.com/linux/amazon-linux-2023/"
DOCUMENTATION_URL="https://docs.aws.amazon.com/linux/"
SUPPORT_END="2028-03-15"
""",
        "/etc/amazon-linux-release": "Amazon Linux release 2023.3.20240219 (Amazon Linux)\n",
        "/etc/system-release": "Amazon Linux release 2023.3.20240219 (Amazon Linux)\n",
    },
    expect={
        "distribution": "Amazon",
        "distribution_version": "2023",
        "distribution_major_version": "2023",
        "os_family": "RedHat",
    },
)

ALPINE_319 = Distro(
    files={
        "/etc/os-release": """NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.19.1
PRETTY_NAME="Alpine Linux v3.19"
HOME_URL="https://alpinelinux.org/"
BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"
""",
        "/etc/alpine-release": "3.19.1\n",
    },
    expect={
        "distribution": "Alpine",
        "distribution_version": "3.19.1",
        "distribution_major_version": "3",
        "distribution_release": "NA",
        "os_family": "Alpine",
    },
)

ARCH = Distro(
    files={
        "/etc/os-release": """NAME="Arch Linux"
PRETTY_NAME="Arch Linux"
ID=arch
BUILD_ID=rolling
ANSI_COLOR="38;2;23;147;209"
HOME_URL="https://archlinux.org/"
DOCUMENTATION_URL="https://wiki.archlinux.org/"
SUPPORT_URL="https://bbs.archlinux.org/"
BUG_REPORT_URL="https://gitlab.archlinux.org/groups/archlinux/-/issues"
PRIVACY_POLICY_URL="https://terms.archlinux.org/docs/privacy-policy/"
LOGO=archlinux-logo
""",
        "/etc/arch-release": "",
    },
    expect={
        "distribution": "Archlinux",
        "distribution_version": "NA",
        "distribution_major_version": "NA",
        "distribution_release": "NA",
        "os_family": "Archlinux",
    },
)

OPENSUSE_LEAP_155 = Distro(
    files={
        "/etc/os-release": """NAME="openSUSE Leap"
VERSION="15.5"
ID="opensuse-leap"
ID_LIKE="suse opensuse"
VERSION_ID="15.5"
PRETTY_NAME="openSUSE Leap 15.5"
ANSI_COLOR="0;32"
CPE_NAME="cpe:/o:opensuse:leap:15.5"
BUG_REPORT_URL="https://bugs.opensuse.org"
HOME_URL="https://www.opensuse.org/"
DOCUMENTATION_URL="https://en.opensuse.org/Portal:Leap"
LOGO="distributor-logo-Leap"
""",
    },
    expect={
        "distribution": "openSUSE Leap",
        "distribution_version": "15.5",
        "distribution_major_version": "15",
        "distribution_release": "5",
        "os_family": "Suse",
    },
)

OPENSUSE_TUMBLEWEED = Distro(
    files={
        "/etc/os-release": """NAME="openSUSE Tumbleweed"
# VERSION="20240220"
ID="opensuse-tumbleweed"
ID_LIKE="opensuse suse"
VERSION_ID="20240220"
PRETTY_NAME="openSUSE Tumbleweed"
ANSI_COLOR="0;32"
CPE_NAME="cpe:/o:opensuse:tumbleweed:20240220"
BUG_REPORT_URL="https://bugzilla.opensuse.org"
SUPPORT_URL="https://bugs.opensuse.org"
HOME_URL="https://www.opensuse.org"
DOCUMENTATION_URL="https://en.opensuse.org/Portal:Tumbleweed"
LOGO="distributor-logo-Tumbleweed"
""",
    },
    expect={
        "distribution": "openSUSE Tumbleweed",
        "distribution_version": "20240220",
        "os_family": "Suse",
    },
)

SLES_15SP5 = Distro(
    files={
        "/etc/os-release": """NAME="SLES"
VERSION="15-SP5"
VERSION_ID="15.5"
PRETTY_NAME="SUSE Linux Enterprise Server 15 SP5"
ID="sles"
ID_LIKE="suse"
ANSI_COLOR="0;32"
CPE_NAME="cpe:/o:suse:sles:15:sp5"
DOCUMENTATION_URL="https://documentation.suse.com/"
""",
    },
    expect={
        "distribution": "SLES",
        "distribution_version": "15.5",
        "distribution_major_version": "15",
        "distribution_release": "5",
        "os_family": "Suse",
    },
)

MINT_213 = Distro(
    files={
        "/etc/os-release": """NAME="Linux Mint"
VERSION="21.3 (Virginia)"
ID=linuxmint
ID_LIKE="ubuntu debian"
PRETTY_NAME="Linux Mint 21.3"
VERSION_ID="21.3"
HOME_URL="https://www.linuxmint.com/"
SUPPORT_URL="https://forums.linuxmint.com/"
BUG_REPORT_URL="http://linuxmint-troubleshooting-guide.readthedocs.io/en/latest/"
PRIVACY_POLICY_URL="https://www.linuxmint.com/"
VERSION_CODENAME=virginia
UBUNTU_CODENAME=jammy
""",
        "/etc/debian_version": "bookworm/sid\n",
    },
    expect={"distribution": "Linux Mint", "distribution_version": "21.3", "os_family": "Debian"},
)

FIXTURES: dict[str, Distro] = {
    "debian12": DEBIAN_12,
    "ubuntu2204": UBUNTU_2204,
    "ubuntu2404-no-lsb-release": UBUNTU_2404_NO_LSB,
    "rhel93": RHEL_93,
    "centos7": CENTOS_7,
    "centos-stream9": CENTOS_STREAM_9,
    "rocky93": ROCKY_93,
    "alma93": ALMA_93,
    "fedora40": FEDORA_40,
    "oracle93": ORACLE_93,
    "amazon2023": AMAZON_2023,
    "alpine319": ALPINE_319,
    "arch": ARCH,
    "opensuse-leap155": OPENSUSE_LEAP_155,
    "opensuse-tumbleweed": OPENSUSE_TUMBLEWEED,
    "sles15sp5": SLES_15SP5,
    "mint213": MINT_213,
}
