pub mod demo;
pub mod init;
pub mod record;
pub mod track;
