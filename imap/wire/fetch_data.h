// (being written) Typed FETCH data: ENVELOPE, BODYSTRUCTURE, INTERNALDATE,
// FLAGS, MODSEQ, UID, RFC822.SIZE from parsed response values.
#ifndef IMAP_WIRE_FETCH_DATA_H_
#define IMAP_WIRE_FETCH_DATA_H_
#endif  // IMAP_WIRE_FETCH_DATA_H_
