"""The ha_san.aoe lab: three QEMU VMs on this machine, wired by two vde switches.

`python3 -m lab --help` lists the commands. Standard library only, so the lab runs
before (and without) the project's virtualenv.
"""
