#!/bin/sh
# make demo: the firmware install command (firmware.install_command: [this script, "{image}"]).
# A board hands the image to its updater here (docs/FIRMWARE.md, "Wiring the install command");
# the demo has no A/B slots, so it prints what it would hand to RAUC and reports "installed" (0).
image="$1"
[ -r "$image" ] || { echo "no readable image: $image" >&2; exit 1; }
echo "firmware request $CS_FIRMWARE_REQUEST_ID from $CS_FIRMWARE_LOCATION (signature verified: $CS_FIRMWARE_SIGNED)"
echo "image $image: $(wc -c < "$image") bytes, sha256 $(sha256sum "$image" | cut -d' ' -f1)"
echo "would run: rauc install $image   (and exit 100 so that the daemon reboots into the new slot)"
exit 0
