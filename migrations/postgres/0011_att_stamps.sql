-- ERRORLOG and IDCARD uploads keep stamps of their own (ERRORLOGStamp, IDCARDStamp in the
-- handshake) instead of overwriting the OPERLOG stamp (issue 17 point 5).
alter table devices add column errorlog_stamp text;
alter table devices add column idcard_stamp text;
