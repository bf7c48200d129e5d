#!/bin/sh
# ha_san lab image build: no service may start inside the build chroot.
exit 101
