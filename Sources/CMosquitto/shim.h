#include <mosquitto.h>
#include <mqtt_protocol.h>
/* The network thread's wake-up (Mosquitto/LoopWakeup.swift): Swift's Glibc module has no eventfd. */
#include <sys/eventfd.h>
