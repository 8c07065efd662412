// DHCP option codes, message types and the values of the PXE options anvil reads or sends (RFC 2132, RFC 4578, PXE 2.1).
export const DhcpOption = {
  Pad: 0,
  SubnetMask: 1,
  Router: 3,
  DnsServer: 6,
  RequestedAddress: 50,
  VendorSpecific: 43,
  LeaseTime: 51,
  Overload: 52,
  MessageType: 53,
  ServerId: 54,
  ParameterRequestList: 55,
  MaxMessageSize: 57,
  RenewalTime: 58,
  RebindingTime: 59,
  VendorClass: 60,
  ClientId: 61,
  TftpServerName: 66,
  BootFileName: 67,
  UserClass: 77,
  ClientArch: 93,
  ClientNdi: 94,
  ClientUuid: 97,
  IpxeEncapsulated: 175,
  End: 255,
} as const;

export const MessageType = { Discover: 1, Offer: 2, Request: 3, Decline: 4, Ack: 5, Nak: 6, Release: 7, Inform: 8 } as const;

/** Client system architecture types of option 93 (RFC 4578, IANA "Processor Architecture Types"). */
export const ClientArch = { BiosX86: 0, EfiIa32: 6, EfiX86_64: 7, EfiBc: 9, EfiArm64: 11, EfiX86_64Http: 16, EfiArm64Http: 19 } as const;

/** PXE 2.1 vendor sub-option PXE_DISCOVERY_CONTROL and its bit "boot file given: download it, no menu/discovery". */
export const PXE_DISCOVERY_CONTROL = 6;
export const DISCOVERY_USE_BOOT_FILE = 0x08;
