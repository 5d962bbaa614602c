>>>
CONNECT mailin03.sul.t-online.de:25 / HTTP/1.0
Mozilla 4.0 (compatible; MSIE 5.01; Windows NT 5.0)


<<<
HTTP/1.0 200 Connection established


<<<
220 mailin03.sul.t-online.de T-Online ESMTP receiver fssmtpd ready.

>>>
HELO 208.191.73.21

<<<
250 Ok.

>>>
MAIL FROM:<nhfjenna_neumann@lycos.com>

<<<
250 Ok.

>>>
RCPT TO:<thenightwatch@t-online.de>

<<<
250 Ok.

>>>
DATA

<<<
354 Ok, start with data.

>>>
Return-Path: Received: from nfinity.nfinity.com (nfinity.nfinity.com [206.101.78.1]) by chronos.cardina.net with smtp; Mrz, 02 2004 13:50:44 -0700
Received: from mail.iosphere.net (mail.iosphere.net [216.58.97.33]) by mail.netsync.net with esmtp; Mrz, 02 2004 12:55:34 -0700

>>>
From: Sybille Ostermann <nhfjenna_neumann@lycos.com>
To: thenightwatch@t-online.de
Subject: Hier sind die dicken Girls hemmungloser denn je.. grcu
Sender: Sybille Ostermann <nhfjenna_neumann@lycos.com>
Mime-Version: 1.0
Content-Type: text/plain; charset="iso-8859-1"
Date: Tue, 2 Mar 2004 13:57:49 +0100
X-Mailer: Microsoft Outlook Build 10.0.2616

Pfund für Pfund pure Geilheit! 

Viel Fleisch, riesige Titten und fette Ärsche - hier auf http://www.dicketeens.de.ms bekommst Du richtig 
geile Aussichten auf die dicken Girls! Mit ihren vielen Kilos sind sie in Thema Geilheit kaum zu übertreffen 
und beim Sex auch viel gelenkiger, als man denkt! 

er einmal mit so einer Wuchtbrumme im Bett war, will es garantiert nicht mehr missen. Denn bei diesen 
Girls hast Du noch richtig was zum Anfassen und es darf auch gern mal etwas heftiger zur Sache gehen. 
In der Vorschau bekommst Du schon mal einen kleinen Geschmack von dem, was Dich in unserem 
großen Memberbereich erwartet. 

Also nix wie los: http://www.dicketeens.de.ms hat wirklich sexy mollige Girls.....

Geheimtipp für Sexkontakte und Seitensprünge:

http://www.hardcoredate.de.ms

mfhosofaaxkmifldmqncfp
.

<<<
250 Message accepted.

>>>
QUIT

<<<
221 mailin03.sul.t-online.de closing.
